"""Commands that talk to clusters and git: cluster, apply, drift, backup, restore.
Parse, call the library, map outcomes to exit codes; nothing else."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from charts_py import contract, format_names
from charts_py.cli import shared
from charts_py.cli.console import EXIT_DIFFERENT, EXIT_OK, err, out

if TYPE_CHECKING:
    from charts_py.drift.model import Report
    from charts_py.drift.notify import Delivery


def register(commands: Any) -> None:
    """Add this module's subcommands."""
    for add in (_add_cluster, _add_apply, _add_drift, _add_backup, _add_restore):
        add(commands)


def _add_cluster(commands: Any) -> None:
    cluster = commands.add_parser("cluster", help="the local control plane (kube-apiserver+etcd)")
    cluster.add_argument("action", choices=["up", "down", "status"])
    cluster.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        metavar="F",
        help="where `up` writes the kubeconfig (default: in the state folder)",
    )
    cluster.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="default: $MESHOPS_CLUSTER_DIR or ~/.local/state/meshops/local-cluster",
    )
    cluster.add_argument(
        "--argocd",
        action="store_true",
        help="up: also run Argo CD syncing the repository you stand in (docs/argocd.md)",
    )
    cluster.set_defaults(handler=_cluster)


def _add_drift(commands: Any) -> None:
    drift = commands.add_parser(
        "drift",
        help="compare a cluster with dist/<env>/<cluster> in git",
        parents=[shared.target(), shared.repo(), shared.dist(), shared.kube()],
    )
    drift.add_argument("--ref", default="HEAD", metavar="R", help="git ref of the desired state")
    drift.add_argument(
        "--live-dir",
        type=Path,
        default=None,
        metavar="D",
        help="compare with a `kubectl get -o yaml` dump instead of a cluster",
    )
    drift.add_argument("--format", choices=format_names.DRIFT, default="text")
    drift.add_argument("--output", type=Path, default=None, metavar="F")
    drift.add_argument("--details", action="store_true", help="text: list every difference")
    drift.add_argument(
        "--snapshot",
        action="store_true",
        help="commit the report and divergent live objects to the snapshot branch",
    )
    drift.add_argument("--snapshot-branch", default=contract.SNAPSHOT_BRANCH, metavar="B")
    drift.add_argument(
        "--push", default=None, metavar="REMOTE", help="push the snapshot (and proposal) branch"
    )
    drift.add_argument(
        "--propose-branch",
        default=None,
        metavar="PREFIX",
        help="on drift, adopt the live values on new branch PREFIX/<env>/<cluster>/<time>",
    )
    _add_delivery(drift)
    drift.set_defaults(handler=_drift)


def _add_delivery(drift: Any) -> None:
    """Report delivery: best effort, never changes the exit code (a warning when it fails)."""
    webhook = drift.add_mutually_exclusive_group()
    webhook.add_argument(
        "--notify",
        type=_notify_url,
        default=None,
        metavar="URL",
        help="POST a JSON summary of the report to this webhook",
    )
    webhook.add_argument(
        "--notify-from-env",
        type=_notify_url_from_env,
        default=None,
        dest="notify",
        metavar="VAR",
        help="like --notify, the URL read from environment variable VAR (kept out of argv)",
    )
    drift.add_argument("--notify-format", choices=format_names.NOTIFY, default="json")
    drift.add_argument(
        "--metrics-file",
        type=Path,
        default=None,
        metavar="F",
        help="write Prometheus metrics for node_exporter's textfile collector (*.prom)",
    )
    drift.add_argument(
        "--pushgateway",
        type=_notify_url,
        default=None,
        metavar="URL",
        help="push the metrics to this Prometheus Pushgateway (group job/env/cluster)",
    )


def _notify_url(url: str) -> str:
    """Reject a URL that can never be delivered to before the run, not after it."""
    from charts_py.drift import notify

    try:
        return notify.check_url(url)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _notify_url_from_env(name: str) -> str:
    """The webhook URL from `$name` (a Secret mounted as env var): never in argv or in dist."""
    url = os.environ.get(name, "")
    if not url:
        raise argparse.ArgumentTypeError(f"environment variable {name} is not set or empty")
    return _notify_url(url)


def _add_apply(commands: Any) -> None:
    apply = commands.add_parser(
        "apply",
        help="server-side apply dist/<env>/<cluster> (Argo CD-style)",
        parents=[shared.target(), shared.kube(), shared.dist()],
    )
    apply.add_argument("--dry-run", action="store_true", help="server-side dry-run: change nothing")
    apply.set_defaults(handler=_apply)


def _cluster(args: argparse.Namespace) -> int:
    from charts_py.cluster import controlplane, sandbox

    state = args.state_dir or controlplane.default_state_dir()
    if args.action != "status" and not controlplane.ready(state):
        sandbox.down(state / sandbox.FOLDER)  # its processes would outlive the state folder
    if args.action == "up":
        started = time.monotonic()
        with err.status("starting kube-apiserver and etcd, installing CRDs..."):
            cluster = controlplane.up(state, args.kubeconfig)
        out.print(
            f"local control plane ready at {cluster.server} ({time.monotonic() - started:.1f}s)"
        )
        out.print(f"export KUBECONFIG={cluster.kubeconfig}", markup=False)
        if args.argocd:
            _argocd_up(state, Path(cluster.kubeconfig))
        return EXIT_OK
    if args.action == "down":
        stopped = sandbox.down(state / sandbox.FOLDER)
        stopped = controlplane.down(state) or stopped
        out.print("stopped" if stopped else "no local control plane was running")
        return EXIT_OK
    running = controlplane.LocalCluster.load(state)
    if running and controlplane.ready(state):
        out.print(
            f"running at {running.server}; export KUBECONFIG={running.kubeconfig}", markup=False
        )
        return EXIT_OK
    out.print("not running")
    return EXIT_DIFFERENT


def _argocd_up(state: Path, hub: Path) -> None:
    """Argo CD on the local control plane, syncing the repository around the current
    directory; the first Argo CD build prints its progress (no spinner over it)."""
    from charts_py import gitrepo
    from charts_py.cluster import sandbox

    repo = Path(str(gitrepo.open_repo().working_tree_dir))
    err.print("Argo CD: building it once (about 30 min on 2 cores) or reusing the cached build")
    running = sandbox.up(state / sandbox.FOLDER, repo, hub, revision="HEAD")
    out.print(
        f"Argo CD syncs {running.repo_url} ({repo}, its checked-out branch) into:", markup=False
    )
    for name, kubeconfig in running.clusters.items():
        out.print(f"  {name}: KUBECONFIG={kubeconfig}", markup=False)
    out.print(f"Applications: kubectl --kubeconfig {hub} -n argocd get applications", markup=False)


def _apply(args: argparse.Namespace) -> int:
    from charts_py import apply, distdir, kubeapi

    folder = distdir.cluster_dir(args.dist, args.env, args.cluster)
    objects = [p.obj for p in distdir.read(folder)]
    cluster = kubeapi.Cluster.connect(args.kubeconfig, args.context)
    verb = "dry-run" if args.dry_run else "apply"
    with err.status(f"{verb} {folder}...") as status:
        summary = apply.apply(
            cluster,
            objects,
            dry_run=args.dry_run,
            progress=lambda name: status.update(f"{verb} {name}"),
        )
    for label, names in (("created", summary.created), ("configured", summary.configured)):
        for name in names:
            out.print(f"  {name} {label}{' (dry run)' if args.dry_run else ''}", markup=False)
    out.print(
        f"{verb} {folder} -> {cluster.server}: {len(summary.created)} created, "
        f"{len(summary.configured)} configured, {len(summary.unchanged)} unchanged"
    )
    return EXIT_OK


def _drift(args: argparse.Namespace) -> int:
    from charts_py.drift import formats, html, run, snapshot

    options = run.Options(
        env=args.env,
        cluster=args.cluster,
        repo=args.repo,
        ref=args.ref,
        dist=str(args.dist),
        kubeconfig=args.kubeconfig,
        context=args.context,
        live_dir=args.live_dir,
    )
    started = time.monotonic()
    with err.status(f"drift {args.env}: reading git and the cluster..."):
        report, live = run.run(options)
    seconds = time.monotonic() - started
    if args.propose_branch and report.drifted and report.complete:
        report = _propose(args, report)
    if args.format == "text":
        with args.output.open("w", encoding="utf-8") if args.output else nullcontext() as file:
            console = Console(file=file, highlight=False, width=160) if file else out
            formats.text(report, console, details=args.details)
    else:
        render = {
            "json": formats.json_text,
            "markdown": formats.markdown,
            "junit": formats.junit,
            "html": html.page,
        }
        rendered = render[args.format](report)
        if args.output:
            args.output.write_text(rendered, encoding="utf-8")
        else:
            sys.stdout.write(rendered)
    _deliver(args, report, seconds)
    if args.snapshot:
        sha = snapshot.commit(
            report, live, repo=args.repo, branch=args.snapshot_branch, push=args.push
        )
        err.print(f"snapshot {sha[:12]} on {args.snapshot_branch}", markup=False)
    code: int = report.exit_code()
    return code


def _propose(args: argparse.Namespace, report: Report) -> Report:
    """The report with the adoption branch made from it (docs/propose.md, "Nightly")."""
    from charts_py.propose import nightly

    with err.status("proposing an adoption branch (re-rendering the environment)..."):
        link = nightly.adopt(
            report, repo=args.repo, dist=str(args.dist), prefix=args.propose_branch, push=args.push
        )
    if link.error:
        err.print(f"meshops: warning: propose: {link.error}", markup=False)
    return dataclasses.replace(report, proposal=link)


def _deliver(args: argparse.Namespace, report: Report, seconds: float) -> None:
    """Metrics file, Pushgateway and webhook; a failure is one warning line, never a different
    exit code."""
    from charts_py.drift import metrics, notify, pushgateway

    if args.metrics_file:
        try:
            metrics.write(report, args.metrics_file, seconds)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            err.print(f"meshops: warning: metrics {args.metrics_file}: {reason}", markup=False)
    if args.pushgateway:
        _said("pushgateway", args.pushgateway, pushgateway.push(report, args.pushgateway, seconds))
    if args.notify:
        _said("notify", args.notify, notify.deliver(report, args.notify, args.notify_format))


def _said(what: str, url: str, sent: Delivery) -> None:
    """One stderr line per delivery, the URL redacted (webhook paths carry their secret)."""
    from charts_py.drift import notify

    where = notify.redact(url)
    tries = f"{sent.attempts} attempt{'' if sent.attempts == 1 else 's'}"
    if sent.ok:
        err.print(f"{what} {where}: delivered (HTTP {sent.status}, {tries})", markup=False)
    else:
        err.print(f"meshops: warning: {what} {where}: {sent.reason} ({tries})", markup=False)


def _add_backup(commands: Any) -> None:
    backup = commands.add_parser(
        "backup",
        help="commit the live state meshops manages to the snapshot branch",
        parents=_recovery_parents(),
    )
    backup.add_argument("--push", default=None, metavar="REMOTE", help="push the snapshot branch")
    backup.set_defaults(handler=_backup)


def _add_restore(commands: Any) -> None:
    restore = commands.add_parser(
        "restore",
        help="re-apply a backup (or git) Argo CD-style, then verify with drift",
        parents=_recovery_parents(),
    )
    restore.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="REF|latest|git",
        help="latest backup, a backup folder <env>/<cluster>/backup-..., a revision of the "
        "snapshot branch (its newest backup), or git: dist/<env>/<cluster> at HEAD",
    )
    restore.add_argument(
        "--dry-run", action="store_true", help="server-side dry-run: change nothing"
    )
    restore.set_defaults(handler=_restore)


def _recovery_parents() -> list[argparse.ArgumentParser]:
    """backup's and restore's options: the cluster, the repository, the snapshot branch."""
    branch = argparse.ArgumentParser(add_help=False)
    branch.add_argument("--branch", default=contract.SNAPSHOT_BRANCH, metavar="B")
    return [shared.target(), shared.repo(), shared.dist(), shared.kube(), branch]


def _backup(args: argparse.Namespace) -> int:
    from charts_py.recovery import backup

    options = backup.Options(
        env=args.env,
        cluster=args.cluster,
        repo=args.repo,
        kubeconfig=args.kubeconfig,
        context=args.context,
        branch=args.branch,
        push=args.push,
        dist=str(args.dist),
    )
    with err.status(f"backup {args.env}: reading git and the cluster..."):
        taken = backup.take(options)
    for name in taken.missing:
        out.print(f"  {name}: in git but not in the cluster (not backed up)", markup=False)
    for needed in taken.secrets:
        out.print(f"  {needed}: not backed up", markup=False)
    out.print(
        f"backup {taken.folder}: {taken.objects} objects, {len(taken.secrets)} Secrets named "
        f"(not stored) -> {args.branch} {taken.commit[:12]}",
        markup=False,
    )
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    from charts_py.drift import formats
    from charts_py.recovery import restore

    options = restore.Options(
        env=args.env,
        source=args.source,
        cluster=args.cluster,
        repo=args.repo,
        kubeconfig=args.kubeconfig,
        context=args.context,
        dry_run=args.dry_run,
        branch=args.branch,
        dist=str(args.dist),
    )
    verb = "dry-run" if args.dry_run else "restore"
    with err.status(f"{verb} {args.env} from {args.source}...") as status:
        done = restore.restore(options, progress=lambda name: status.update(f"{verb} {name}"))
    summary, suffix = done.summary, " (dry run)" if args.dry_run else ""
    for label, names in (("created", summary.created), ("configured", summary.configured)):
        for name in names:
            out.print(f"  {name} {label}{suffix}", markup=False)
    out.print(
        f"{verb} {done.source.description} -> {done.server}: {len(summary.created)} created, "
        f"{len(summary.configured)} configured, {len(summary.unchanged)} unchanged",
        markup=False,
    )
    for needed in done.source.secrets:
        out.print(f"  not restored, provide out of band: {needed}", markup=False)
    if done.report is not None:
        out.print(f"verify (drift {done.report.env}/{done.report.cluster}):", markup=False)
        formats.text(done.report, out, details=True)
    return done.exit_code
