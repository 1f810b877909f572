"""The synth pipeline: environments -> Apps -> manifests -> dist/ (or a comparison with it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from charts_py import contract
from charts_py.charts import bootstrap, control_plane, mesh
from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.constructs import objects
from charts_py.docs import environment as docs
from charts_py.render import checks, collect, dist
from charts_py.render.manifest import Manifest, render
from charts_py.validate.findings import Finding


@dataclass(frozen=True)
class Result:
    """What a synth produced and how it differs from dist/ before the run."""

    manifests: list[Manifest]
    changes: dist.Changes
    warnings: list[Finding] = field(default_factory=list)
    """Validation warnings of the rendered objects (errors stop a synth instead)."""


def manifests(envs: Sequence[Environment], all_envs: Sequence[Environment]) -> list[Manifest]:
    """Every object of the selected environments plus the Argo CD bootstrap, placed."""
    out: list[Manifest] = []
    for env in envs:
        for cluster in env.spec.clusters:
            with objects.batch():
                app = mesh.build(env, cluster)
            out += collect.manifests(app, f"{env.name}/{cluster.name}")
    with objects.batch():
        app = bootstrap.build(list(all_envs))
    out += collect.manifests(app, contract.BOOTSTRAP_DIR)
    with objects.batch():
        app = control_plane.build(list(all_envs))
    out += collect.manifests(app, contract.BOOTSTRAP_DIR)
    collect.check_unique(out)
    return out


def run(
    environments: Path, dist_dir: Path, names: Sequence[str] = (), *, check: bool = False
) -> Result:
    """Render the selected environments; write them to `dist_dir` unless `check`."""
    envs = environment.load_all(environments)
    selected = environment.select(envs, names, str(environments))
    with checks.in_background(envs, dist_dir) as validate:
        placed = manifests(selected, list(envs.values()))
        verdict = validate(placed)
        files = {m.path: render(m.obj, _source(m.path, environments.name)) for m in placed}
        files |= pages(selected, environments.name)
        tops = {e.name for e in selected} | {contract.BOOTSTRAP_DIR} if names else None
        if check:
            changes = dist.compare(dist_dir, files, tops)
        else:
            changes = dist.write(dist_dir, files, tops, gate=verdict)
        return Result(placed, changes, verdict())


def pages(envs: Sequence[Environment], environments: str) -> dict[str, bytes]:
    """Each environment's generated `README.md` (dist/<env>/, beside its cluster folders), so
    the documentation is written and checked with the manifests it describes."""
    return {docs.path(env): docs.render(env, f"{environments}/{env.name}.yaml") for env in envs}


def _source(path: str, environments: str) -> str:
    """The file a manifest comes from, named the same on every machine (for its header)."""
    top = path.split("/", 1)[0]
    return f"{environments}/{'*' if top == contract.BOOTSTRAP_DIR else top}.yaml"
