"""The synth pipeline: environments -> Apps -> manifests -> dist/ (or a comparison with it)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from charts_py import contract, provenance
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


@dataclass(frozen=True)
class Rendered:
    """The placed objects, and the provenance of each (env, cluster) by side file path."""

    manifests: list[Manifest]
    provenances: dict[str, provenance.Provenance]

    @functools.cached_property
    def side_files(self) -> dict[str, bytes]:
        """The provenance side files' bytes, by dist path: made when asked for (import,
        which renders to verify, never writes them; the estate's took 0.3 s)."""
        return {path: p.to_bytes() for path, p in self.provenances.items()}


def manifests(envs: Sequence[Environment], all_envs: Sequence[Environment]) -> list[Manifest]:
    """Every object of the selected environments plus the Argo CD bootstrap, placed."""
    return rendered(envs, all_envs).manifests


def rendered(
    envs: Sequence[Environment],
    all_envs: Sequence[Environment],
    environments: str = "environments",
    each: Callable[[Sequence[Manifest]], None] = lambda _: None,
) -> Rendered:
    """`manifests`, with provenance; `environments` names the environments folder as the
    repository has it (what each side file's `file` says). `each` is handed every cluster's
    objects, then the bootstrap's, as soon as they exist (validation starts on them while
    the next are built)."""
    out: list[Manifest] = []
    provenances: dict[str, provenance.Provenance] = {}
    for env in envs:
        for cluster in env.spec.clusters:
            with objects.batch() as recorded:
                app = mesh.build(env, cluster)
            placed = collect.manifests(app, f"{env.name}/{cluster.name}")
            each(placed)
            out += placed
            file = f"{environments}/{env.name}.yaml"
            named = dataclasses.replace(
                recorded,
                env=env.name,
                cluster=cluster.name,
                file=file,
                profile=env.spec.profile,
                digest=provenance.digest(
                    env.raw.data, {t.team: t.raw.data for t in env.team_files}
                ),
                shown=env.file,
            )
            provenances[provenance.side_file(env.name, cluster.name)] = named
    # The bootstrap has no provenance file: it is derived from every environment at once,
    # and drift does not compare it.
    with objects.batch():
        app = bootstrap.build(list(all_envs))
    placed = collect.manifests(app, contract.BOOTSTRAP_DIR)
    with objects.batch():
        app = control_plane.build(list(all_envs))
    placed += collect.manifests(app, contract.BOOTSTRAP_DIR)
    each(placed)
    out += placed
    collect.check_unique(out)
    return Rendered(out, provenances)


@dataclass(frozen=True)
class Staged:
    """A synth's output before it is written: the files of dist/ it replaces (within `tops`,
    or everything) and the verdict of validation running beside it."""

    manifests: list[Manifest]
    files: dict[str, bytes]
    tops: set[str] | None
    verdict: checks.Verdict
    """Waits for validation: the warnings, or raises on an error."""


def run(
    environments: Path, dist_dir: Path, names: Sequence[str] = (), *, check: bool = False
) -> Result:
    """Render the selected environments; write them to `dist_dir` unless `check` (staged
    beside it while they render: dist.Stager)."""
    envs = environment.load_all(environments)
    if check:
        with staging(envs, environments, dist_dir, names) as staged:
            changes = dist.compare(dist_dir, staged.files, staged.tops)
            return Result(staged.manifests, changes, staged.verdict())
    with (
        dist.Stager(dist_dir) as stager,
        staging(envs, environments, dist_dir, names, into=stager) as staged,
    ):
        changes = stager.finish(staged.tops, gate=staged.verdict)
        return Result(staged.manifests, changes, staged.verdict())


@contextmanager
def staging(
    envs: dict[str, Environment],
    environments: Path,
    dist_dir: Path,
    names: Sequence[str] = (),
    into: dist.Stager | None = None,
) -> Iterator[Staged]:
    """Render loaded environments (read from `environments`, or an edited file: `meshops
    propose`) while validation runs in its worker; use the result, its verdict included,
    inside the block (the worker stops when it ends). The files are handed to `into`, if
    given, a few hundred at a time as they are rendered."""
    selected = environment.select(envs, names, str(environments))
    folder = environments.name
    homes = team_files(selected, folder)
    with checks.in_background(envs, dist_dir) as validation:
        built = rendered(selected, list(envs.values()), folder, each=validation.add)
        verdict = validation.verdict()  # the worker runs the rules while the YAML is made
        files: dict[str, bytes] = {}
        for start in range(0, len(built.manifests), STAGED_AT_ONCE):
            chunk = built.manifests[start : start + STAGED_AT_ONCE]
            made = {m.path: render(m.obj, _source(m, folder, homes)) for m in chunk}
            _handed(made, files, into)
        _handed(pages(selected, folder) | built.side_files, files, into)
        tops = {e.name for e in selected} | {contract.BOOTSTRAP_DIR} if names else None
        yield Staged(built.manifests, files, tops, verdict)


STAGED_AT_ONCE = 256
"""Files rendered before they are handed to the Stager, whose thread writes them while the
next ones are rendered."""


def _handed(made: dict[str, bytes], files: dict[str, bytes], into: dist.Stager | None) -> None:
    files.update(made)
    if into is not None:
        into.add(made)


def write(staged: Staged, dist_dir: Path) -> dist.Changes:
    """Swap the staged files into `dist_dir` once validation passed (else it stays as it was)."""
    return dist.write(dist_dir, staged.files, staged.tops, gate=staged.verdict)


def pages(envs: Sequence[Environment], environments: str) -> dict[str, bytes]:
    """Each environment's generated `README.md` (dist/<env>/, beside its cluster folders), so
    the documentation is written and checked with the manifests it describes."""
    return {docs.path(env): docs.render(env, f"{environments}/{env.name}.yaml") for env in envs}


def team_files(envs: Sequence[Environment], environments: str) -> dict[tuple[str, str], str]:
    """(env, namespace) -> the team's file that describes that namespace, as the repository
    names it (`environments/prod/payments.yaml`)."""
    return {
        (env.name, ns.name): f"{environments}/{env.name}/{ns.team}.yaml"
        for env in envs
        for ns in env.namespaces
        if ns.team is not None and ns.raw is not env.raw
    }


PLATFORM_CHARTS = frozenset({"drift-job"})
"""Charts whose objects in a team's namespace are the platform's all the same (the nightly
drift job's Role there follows the environment file's `drift:`)."""


def _source(manifest: Manifest, environments: str, teams: dict[tuple[str, str], str]) -> str:
    """The file a manifest comes from, named the same on every machine (for its header): a
    team's file for the objects of a namespace it describes (its services, its namespace's
    baseline and alerts), else the environment file."""
    top, _, rest = manifest.path.partition("/")
    if top == contract.BOOTSTRAP_DIR:
        return f"{environments}/*.yaml"
    if rest.split("/")[1] in PLATFORM_CHARTS:
        return f"{environments}/{top}.yaml"
    namespace = str((manifest.obj.get("metadata") or {}).get("namespace", ""))
    return teams.get((top, namespace), f"{environments}/{top}.yaml")
