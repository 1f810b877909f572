"""One drift run for one (env, cluster): read desired and live, judge, build the Report."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from charts_py import kubeapi
from charts_py.config import environment
from charts_py.drift import check, fetch, parse, sources
from charts_py.drift.model import Report, Severity, Waiver
from charts_py.drift.policy import (
    DEFAULT_SEVERITY,
    IgnoreRule,
    Policy,
    SeverityRule,
    with_waivers,
)
from charts_py.objectref import ObjectRef, group_label
from charts_py.speed import process


@dataclass(frozen=True, kw_only=True)
class Options:
    """What to compare: the contract's CLI options."""

    env: str
    cluster: str | None = None
    repo: Path | None = None
    ref: str = "HEAD"
    dist: str = "dist"
    kubeconfig: str | None = None
    context: str | None = None
    live_dir: Path | None = None
    retry: kubeapi.RetryPolicy | None = None


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(options: Options) -> tuple[Report, fetch.Live]:
    """The Report, and the live objects it judged (masked; for snapshots)."""
    with process.collector_paused():  # hundreds of thousands of acyclic maps and lists
        return _run(options)


def unfinished(options: Options, started: str, reason: str) -> tuple[Report, fetch.Live]:
    """The report of a run that could not read the cluster at all (unreachable, refused):
    no verdicts, the reason as its run error, so it is incomplete (exit 2) and still
    delivered: silence would read as "nothing new"."""
    where = fetch.place(options.repo, options.ref, options.dist, options.env, options.cluster)
    report = Report(
        env=options.env,
        cluster=where.cluster,
        git=where.git,
        started_at=started,
        finished_at=now(),
        results=(),
        errors=(reason,),
    )
    return report, fetch.Live()


def _run(options: Options) -> tuple[Report, fetch.Live]:
    started = now()
    early = None
    with parse.Parser() as parser:  # its worker, if it forks one, stops on the way out
        if options.live_dir is not None:
            desired = _desired(options, parser)
            server, live = None, fetch.from_dir(options.live_dir)
            policy = policy_for(desired.environment_text, desired.git.commit, options.env)
        else:
            server = kubeapi.Cluster.connect(options.kubeconfig, options.context, options.retry)
            desired, live, policy, early = _read(server, options, parser)
    wanted = {ObjectRef.of(o).group_kind for o in desired.objects}
    results = check.judge_all(
        desired.objects,
        live,
        policy,
        env=options.env,
        cluster_name=desired.cluster,
        server=server,
        early=early,
    )
    lookup, missing = sources.load(
        desired.provenance, desired.environment_text, desired.git.commit, desired.team_texts
    )
    results = sources.attach(results, desired.objects, live.objects, lookup)
    results = with_waivers(results, policy)
    unserved = {k: "not served by the cluster" for k in live.unserved & wanted}
    errors = tuple(
        f"{kind} ({group_label(group)}): {reason}"
        for (group, kind), reason in sorted({**live.errors, **unserved}.items())
    )
    unsearched = ", ".join(sorted(live.unsearched))
    notes = (
        (f"extra objects outside the managed namespaces not searched (RBAC allows no "
         f"cluster-wide LIST): {unsearched}",)
        if unsearched
        else ()
    ) + ((missing,) if missing else ())  # fmt: skip
    report = Report(
        env=options.env,
        cluster=desired.cluster,
        git=desired.git,
        started_at=started,
        finished_at=now(),
        results=tuple(results),
        errors=errors,
        notes=notes,
    )
    return report, live


def _read(
    server: kubeapi.Cluster, options: Options, parser: parse.Parser
) -> tuple[fetch.Desired, fetch.Live, Policy, check.Early]:
    """git's objects and the cluster's, read at the same time, and the local verdicts
    reached meanwhile: git's files are read and handed to the parser, the label-selected
    LISTs start (they need no object of git's), and each object is judged as soon as its
    chunk is parsed and its kind's LIST has arrived, while the rest is still parsed and
    read."""
    where = fetch.place(options.repo, options.ref, options.dist, options.env, options.cluster)
    # git's files first, and to the worker: LISTs in flight would slow both down (their
    # threads want the interpreter too, TLS handshakes first).
    files = fetch.tree(where)
    chunks = parser.stream(fetch.named(files))
    with fetch.Labelled(server, options.env, where.cluster) as ours:
        policy = policy_for(files.environment_text, where.git.commit, options.env)
        early = check.Early(ours, policy)
        objects = parse.in_order(chunks, len(files.files), each=early.judge)
        early.finish()
        desired = fetch.assembled(files, objects)
        scope = fetch.Scope.of(desired.objects, options.env, desired.cluster)
        kinds = fetch.KNOWN_KINDS | {(o["apiVersion"], o["kind"]) for o in desired.objects}
        return desired, fetch.from_cluster(server, kinds, scope, ours), policy, early


def _desired(options: Options, parser: parse.Parser) -> fetch.Desired:
    return fetch.desired(
        options.repo, options.ref, options.dist, options.env, options.cluster, parser
    )


def policy_for(environment_text: str | None, commit: str, env: str) -> Policy:
    """Drift rules from the environment file at the commit (defaults without one)."""
    if environment_text is None:
        return Policy()
    drift = environment.drift_rules(environment_text, f"environments/{env}.yaml@{commit[:12]}")
    severity = tuple(SeverityRule(r.kind, r.path, Severity(r.severity)) for r in drift.severity)
    ignore = tuple(
        IgnoreRule(kind=r.kind, namespace=r.namespace, name=r.name, path=r.path, manager=r.manager)
        for r in drift.ignore
    )
    waivers = tuple(
        Waiver(w.kind, w.namespace, w.name, w.path, w.reason, w.owner, w.expires)
        for w in drift.waivers
    )
    return Policy(
        severity=severity + DEFAULT_SEVERITY,
        ignore=ignore,
        controllers=Policy().controllers | frozenset(drift.controllers),
        waivers=waivers,
    )
