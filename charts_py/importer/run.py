"""One `meshops import`: read the sources, adopt them, and only then write the environment
file and the report (bad input stops it before anything is written)."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charts_py import kubeapi, yamlio
from charts_py.config import environment, model
from charts_py.errors import ConfigError
from charts_py.importer import adopt, formats, sources
from charts_py.importer.model import Inexpressible
from charts_py.importer.placement import Target
from charts_py.objectref import group_of
from charts_py.speed import process

PLACEHOLDER_REPO = "https://git.example.com/REPLACE-ME.git"
"""`argocd.repoURL` when no environment file beside the new one says it."""


@dataclass(frozen=True, kw_only=True)
class Options:
    """`meshops import`'s options (docs/import.md)."""

    env: str
    cluster: str | None = None
    from_dir: tuple[Path, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()
    output: Path | None = None
    """Default: `<environments>/<env>.yaml`."""
    report: Path | None = None
    force: bool = False
    profile: str = "none"
    not_expressible: Inexpressible = Inexpressible.EXTENSION
    environments: Path = Path("environments")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What was written where, and the verified report."""

    output: Path
    adopted: adopt.Adopted


def run(options: Options) -> Outcome:
    """Import, verify, then write the file (and the report, when asked)."""
    # The sources, the file's data and text, its nodes and the rendered objects are a few
    # million acyclic maps and lists alive to the end: the cyclic collector rescanned them
    # again and again, half of an import's time on the estate (docs/development.md).
    with process.collector_paused():
        return _run(options)


def _run(options: Options) -> Outcome:
    output = options.output or options.environments / f"{options.env}.yaml"
    if not environment.ENV_NAME.match(options.env):
        raise ConfigError("--env", "", f"environment name {options.env!r} must be a DNS label")
    cluster = options.cluster or f"{options.env}-1"
    if not re.fullmatch(model.DNS_LABEL, cluster) or len(cluster) > 52:
        raise ConfigError("--cluster", "", f"cluster name {cluster!r} must be a DNS label")
    if output.exists() and not options.force:
        raise ConfigError(str(output), "", "exists: pass --force to replace it")
    found, plurals = _read(options)
    argocd, notes = _argocd(options.environments, output)
    target = Target(
        env=options.env,
        cluster=cluster,
        profile=options.profile,
        namespace=adopt.platform_namespace(found.objects, options.namespaces),
        argocd=argocd,
        inexpressible=options.not_expressible,
        plurals=plurals,
    )
    adopted = adopt.adopt(found.objects, target, str(output), [*found.notes, *notes])
    report = formats.json_report(adopted.report).encode("utf-8")
    _write(output, adopted.text.encode("utf-8"))
    if options.report is not None:
        _write(options.report, report)
    return Outcome(output=output, adopted=adopted)


def _read(options: Options) -> tuple[sources.Sources, dict[tuple[str, str], str]]:
    """The sources, and the resource names the cluster's discovery gives (none from files)."""
    if options.from_dir:
        namespace = options.namespaces[0] if options.namespaces else None
        return sources.from_dir(options.from_dir, namespace), {}
    cluster = kubeapi.Cluster.connect(options.kubeconfig, options.context)
    plurals = {(group_of(r.api_version), r.kind): r.plural for r in cluster.preferred()}
    return sources.from_cluster(cluster, options.namespaces), plurals


def _argocd(environments: Path, output: Path) -> tuple[dict[str, Any], list[str]]:
    """The `argocd:` block every environment file of the folder has (they must agree: one
    ApplicationSet serves them all), else a placeholder repository, said in a note."""
    for file in sorted(environments.glob("*.yaml")) if environments.is_dir() else []:
        if file.resolve() == output.resolve():
            continue
        data = yamlio.load(file.read_text(encoding="utf-8"))
        found = data.get("argocd") if isinstance(data, dict) else None
        if isinstance(found, dict) and found.get("repoURL"):
            return dict(found), []
    note = f"argocd.repoURL: {PLACEHOLDER_REPO} (no environment file in {environments} names one)"
    return {"repoURL": PLACEHOLDER_REPO}, [note]


def _write(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
