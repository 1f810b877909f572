"""What to validate under which profile: paths given by a user, dist/, or a fresh render.

dist/<env> is checked under the profile of environments/<env>.yaml; every other top-level
folder of dist/ (the Argo CD bootstrap) under the strictest profile. Manifests given as
paths are checked under the profile of `--env` (an environment or a profile name), else
the strictest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charts_py import contract
from charts_py.config import environment, installation
from charts_py.config.environment import Environment
from charts_py.config.installation import Installation
from charts_py.errors import ConfigError
from charts_py.validate import documents, engine, promql, repository
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document, DocumentError
from charts_py.validate.findings import Report
from charts_py.validate.rules.catalog import PROFILES, STRICTEST


@dataclass(frozen=True)
class Target:
    """Objects checked together under one profile (one environment's clusters)."""

    label: str
    profile: str
    docs: list[Document]
    installations: tuple[Installation, ...] = ()
    """What Istio's charts and the operator installed in its clusters (config/installation.py)."""
    notes: tuple[str, ...] = ()
    """Files (or documents) read but left out, each with why (validate/repository.py)."""
    namespace: str = "default"
    """Where objects without a namespace land (`--namespace`)."""


def profile_of(env: str | None, environments: Path) -> str:
    """The profile of environment `env` (its file), or `env` itself if it names a profile."""
    if env is None:
        return STRICTEST
    file = environments / f"{env}.yaml"
    if file.is_file():
        return environment.load(file).spec.profile
    if env in PROFILES:
        return env
    known = ", ".join(sorted(p.stem for p in environments.glob("*.yaml"))) or "none"
    raise ConfigError(
        str(file), "", f"no such environment (known: {known}; or a profile: dev, staging, prod)"
    )


def for_paths(
    paths: Sequence[Path], profile: str, exclude: Sequence[str] = (), namespace: str = "default"
) -> list[Target]:
    """The manifests in `paths`, together, under `profile`: files matching an `exclude` glob
    left out, objects without a namespace in `namespace`."""
    loaded = repository.load(paths, exclude, namespace)
    label = ", ".join(str(p) for p in paths)
    return [Target(label, profile, loaded.docs, notes=tuple(loaded.notes), namespace=namespace)]


def for_dist(dist: Path, environments: Path, names: Sequence[str] = ()) -> list[Target]:
    """Each top-level folder of `dist` (only `names`' if given) under its profile."""
    envs = environment.load_all(environments)
    if not dist.is_dir():
        raise DocumentError(f"{dist}: no such directory (run `meshops synth` first)")
    folders = sorted(p for p in dist.iterdir() if p.is_dir() and not p.name.startswith("."))
    if names:
        unknown = sorted(set(names) - set(envs))
        if unknown:
            known = ", ".join(sorted(envs))
            raise ConfigError(
                f"{environments}/{unknown[0]}.yaml", "", f"no such environment (known: {known})"
            )
        missing = sorted(set(names) - {p.name for p in folders})
        if missing:
            raise DocumentError(f"{dist}/{missing[0]}: no such directory")
        folders = [p for p in folders if p.name in names]
    out = []
    for folder in folders:
        env = envs.get(folder.name)
        profile = env.spec.profile if env else STRICTEST
        installed = installation.of_environment(env) if env else ()
        out.append(Target(str(folder), profile, repository.load([folder]).docs, installed))
    bootstrap = dist / contract.BOOTSTRAP_DIR
    if names and bootstrap.is_dir():
        out.append(Target(str(bootstrap), STRICTEST, repository.load([bootstrap]).docs))
    return _joined(out, set(envs), keep_bootstrap=not names)


def for_rendered(
    items: Iterable[tuple[str, dict[str, Any]]], envs: Mapping[str, Environment], prefix: str
) -> list[Target]:
    """Rendered objects by dist path (`<env>/<cluster>/...`), each env under its profile."""
    by_top: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path, obj in items:
        by_top.setdefault(path.split("/", 1)[0], []).append((f"{prefix}{path}", obj))
    targets = []
    for top, group in sorted(by_top.items()):
        env = envs.get(top)
        profile = env.spec.profile if env else STRICTEST
        docs = documents.from_objects(group)
        installed = installation.of_environment(env) if env else ()
        targets.append(Target(top, profile, docs, installed))
    return _joined(targets, set(envs), keep_bootstrap=True)


def _joined(targets: list[Target], known: set[str], *, keep_bootstrap: bool) -> list[Target]:
    """Objects of dist/_bootstrap labelled for an environment (its control-plane Applications)
    are checked with that environment's objects, under its profile: rules relate them
    (revisions, telemetry providers). Those of environments not checked are left out."""
    moved: dict[str, list[Document]] = {}
    out = []
    for target in targets:
        if _env_of(target.label) != contract.BOOTSTRAP_DIR:
            out.append(target)
            continue
        kept = []
        for doc in target.docs:
            env = doc.labels.get(contract.ENVIRONMENT, "")
            if env in known:
                moved.setdefault(env, []).append(doc)
            else:
                kept.append(doc)
        if keep_bootstrap and kept:
            out.append(Target(target.label, target.profile, kept, target.installations))
    return [
        Target(t.label, t.profile, [*t.docs, *moved.get(_env_of(t.label), [])], t.installations)
        for t in out
    ]


def _env_of(label: str) -> str:
    """The environment of a target label (`dist/prod`, or `prod` for rendered objects)."""
    return label.rstrip("/").rpartition("/")[2]


def run(targets: Sequence[Target]) -> Report:
    """Validate every target under its profile; one report for all."""
    promql.prefetch([d.spec for t in targets for d in t.docs if d.group_kind == gk.PROMETHEUS_RULE])
    report = Report()
    for target in targets:
        report = report.merged(engine.validate(target.docs, target.profile, target.installations))
        report = report.merged(Report(notes=list(target.notes)))
    return report
