"""One proposal for one (env, cluster): read everything at one commit, plan, verify."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from charts_py import gitrepo, provenance
from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.drift import run, sources
from charts_py.drift.model import Report, Result, Status, finding_id
from charts_py.errors import ConfigError, MeshopsError
from charts_py.objectref import Key, ObjectRef
from charts_py.propose import effective, plan, report, revert, verify
from charts_py.propose.plan import Candidate, Refusal
from charts_py.render import checks, synth
from charts_py.validate import engine

ENVIRONMENTS = "environments"


class Mode(enum.StrEnum):
    ADOPT = "adopt"
    REVERT = "revert"


@dataclass(frozen=True, kw_only=True)
class Options:
    """What to propose and from which drift run (a report file, else a live run)."""

    env: str
    cluster: str
    mode: Mode
    from_report: Path | None = None
    repo: Path | None = None
    dist: str = "dist"
    kubeconfig: str | None = None
    context: str | None = None
    live_dir: Path | None = None
    findings: tuple[str, ...] = ()
    """Only these findings (ids of the report's `finding`); empty: every difference."""


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Everything at the commit the proposal patches (HEAD)."""

    repo: gitrepo.Repo
    commit: str
    report: Report
    texts: dict[str, str]
    """Every environment file at the commit, by environment name."""
    dist_files: dict[str, str]
    """dist file name -> its path in the repository, for the env/cluster."""
    side_file: bytes | None
    """The cluster's provenance side file (None: the commit has none)."""
    teams: dict[str, dict[str, str]] = field(default_factory=dict)
    """Every team file at the commit, by environment name, then by repository path."""

    def team_texts(self, env: str) -> dict[str, str]:
        """The team files of `env` (`environments/<env>/<team>.yaml` -> text)."""
        return self.teams.get(env, {})

    @property
    def root(self) -> Path:
        return Path(str(self.repo.working_tree_dir))


@dataclass(kw_only=True)
class Proposal:
    """What propose found: the offered edits (with the patched file) or the reverts."""

    env: str
    cluster: str
    mode: Mode
    commit: str
    """The commit the report judged and the proposal patches."""
    display: str
    """The environment file, relative to the repository."""
    offered: list[Candidate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    reverts: list[revert.Revert] = field(default_factory=list)
    also: list[tuple[ObjectRef, str]] = field(default_factory=list)
    before: dict[str, str] = field(default_factory=dict)
    """Every file of the environment at the commit, by path (the platform's, each team's)."""
    after: dict[str, str] = field(default_factory=dict)
    """The files the offered edits change, patched (empty: nothing offered)."""
    environment: Environment | None = None


def only(drift: Report, findings: tuple[str, ...], shown: str) -> Report:
    """The report narrowed to `findings` (a finding's id is its object and path, so a report
    of any schema version can be narrowed); a ConfigError for an id it does not hold."""
    if not findings:
        return drift
    wanted, kept, seen = set(findings), [], set()
    for result in drift.results:
        if result.status in (Status.MISSING, Status.EXTRA):
            if finding_id(result.ref, "") in wanted:
                kept.append(result)
                seen.add(finding_id(result.ref, ""))
            continue
        picked = tuple(d for d in result.differences if finding_id(result.ref, d.path) in wanted)
        seen |= {finding_id(result.ref, d.path) for d in picked}
        if picked:
            kept.append(dataclasses.replace(result, differences=picked))
    absent = sorted(wanted - seen)
    if absent:
        raise ConfigError(shown, "--finding", f"no finding {absent[0]} among the differences")
    return dataclasses.replace(drift, results=tuple(kept))


def read(options: Options, drift: Report | None = None) -> Inputs:
    """The report (`drift`, else `options.from_report`, else a live run now) and the files
    of HEAD, checked to belong together (else a ConfigError)."""
    repo = gitrepo.open_repo(options.repo)
    head = gitrepo.resolve(repo, "HEAD")
    tree = gitrepo.read_tree(repo, head, ENVIRONMENTS)
    texts = {
        PurePosixPath(p).stem: data.decode("utf-8")
        for p, data in tree.items()
        if p.endswith(".yaml") and "/" not in p
    }
    teams: dict[str, dict[str, str]] = {}
    for p, data in tree.items():
        parts = PurePosixPath(p).parts
        if len(parts) == 2 and p.endswith(".yaml"):
            teams.setdefault(parts[0], {})[f"{ENVIRONMENTS}/{p}"] = data.decode("utf-8")
    if options.env not in texts:
        known = ", ".join(sorted(texts))
        raise ConfigError(
            f"{ENVIRONMENTS}/{options.env}.yaml", "--env", f"no such environment (known: {known})"
        )
    shown = _display(options.env)
    env = environment.load_text(texts[options.env], options.env, shown, teams.get(options.env))
    clusters = [c.name for c in env.spec.clusters]
    if options.cluster not in clusters:
        reason = f"no cluster {options.cluster!r} in {options.env} (known: {', '.join(clusters)})"
        raise ConfigError(_display(options.env), "--cluster", reason)
    drift = drift or _report(options)
    _check(drift, options, head, str(options.from_report or "drift"))
    drift = only(drift, options.findings, str(options.from_report or "drift"))
    folder = f"{options.dist}/{options.env}"
    tree = gitrepo.read_tree(repo, head, folder)
    files = {
        PurePosixPath(p).name: f"{folder}/{p}"
        for p in tree
        if p.startswith(f"{options.cluster}/") and p.endswith(".yaml")
    }
    side = tree.get(provenance.side_file(options.env, options.cluster).split("/", 1)[1])
    return Inputs(
        repo=repo,
        commit=head,
        report=drift,
        texts=texts,
        dist_files=files,
        side_file=side,
        teams=teams,
    )


def _report(options: Options) -> Report:
    if options.from_report is not None:
        return report.read(options.from_report)
    run_options = run.Options(
        env=options.env,
        cluster=options.cluster,
        repo=options.repo,
        ref="HEAD",
        dist=options.dist,
        kubeconfig=options.kubeconfig,
        context=options.context,
        live_dir=options.live_dir,
    )
    return run.run(run_options)[0]


def _check(drift: Report, options: Options, head: str, shown: str) -> None:
    """The report is of this env, cluster and commit, and complete."""
    if drift.env != options.env:
        raise ConfigError(shown, "env", f"the report is of {drift.env!r}, not {options.env!r}")
    if drift.cluster != options.cluster:
        reason = f"the report is of {drift.cluster!r}, not {options.cluster!r}"
        raise ConfigError(shown, "cluster", reason)
    if drift.git.commit != head:
        reason = (
            f"the report judged commit {drift.git.commit[:12]}, HEAD is {head[:12]}: "
            "run drift again at HEAD (propose patches HEAD)"
        )
        raise ConfigError(shown, "git.commit", reason)
    if not drift.complete:
        raise ConfigError(shown, "complete", "the drift run could not check everything")


def propose(options: Options, inputs: Inputs) -> Proposal:
    """The adoption or the reverts of the report's differences."""
    display = _display(options.env)
    text = inputs.texts[options.env]
    teams = inputs.team_texts(options.env)
    out = Proposal(
        env=options.env,
        cluster=options.cluster,
        mode=options.mode,
        commit=inputs.commit,
        display=display,
        before={display: text, **teams},
    )
    results: list[Result] = list(plan.divergent(inputs.report.results))
    if options.mode == Mode.REVERT:
        out.reverts = revert.plan(results, inputs.dist_files)
        return out
    docs = effective.documents(environment.load_text(text, options.env, display, teams))
    lookup = _sources(options, inputs, text, teams)
    candidates, out.refused = plan.sort(results, lookup, docs, display)
    target = verify.Target(
        texts=out.before,
        env=options.env,
        display=display,
        render=renderer(options.cluster, options.dist),
        seeds={file: effective.seed(doc) for file, doc in docs.items()},
    )
    done = verify.verify(candidates, target)
    out.offered, out.also = done.offered, done.also
    out.refused += done.refused
    out.after, out.environment = done.texts, done.environment
    return out


def _sources(options: Options, inputs: Inputs, text: str, teams: dict[str, str]) -> sources.Lookup:
    """Sources from the side file at the report's commit, as drift reads them; none usable
    (absent, unreadable, newer) is bad input: nothing could be adopted."""
    lookup, note = sources.load(inputs.side_file, text, inputs.commit, teams)
    if note:
        side = f"{options.dist}/{provenance.side_file(options.env, options.cluster)}"
        raise ConfigError(side, "", f"{note}; run `meshops synth` and commit dist/")
    return lookup


def renderer(cluster: str, dist: str) -> verify.Render:
    """The cluster's objects rendered from one environment, in memory, and validated as
    synth validates them (an edit synth would refuse is never offered)."""

    def render(env: Environment) -> dict[Key, dict[str, Any]]:
        prefix = f"{env.name}/{cluster}/"
        placed = [m for m in synth.manifests([env], [env]) if m.path.startswith(prefix)]
        try:
            checks.validated(placed, {env.name: env}, Path(dist))
        except engine.ValidationFailed as failed:
            first = failed.report.errors[0]
            raise MeshopsError(
                f"{first.obj.ref.identity} {first.path}: {first.message} [{first.rule}]"
            ) from None
        return {ObjectRef.of(m.obj).key: m.obj for m in placed}

    return render


def _display(env: str) -> str:
    return f"{ENVIRONMENTS}/{env}.yaml"
