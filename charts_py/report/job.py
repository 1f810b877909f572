"""The nightly drift job, one run of `meshops drift` with its options: drift, then propose
(an adoption branch, when asked and there is drift), render the report, deliver it (metrics
file, Pushgateway, webhook) and commit the snapshot. The CLI parses options into a `Job`
and maps the report to an exit code; the sequence lives here, once.

Delivery is best effort: each failure is one warning line on `err`, never a different exit
code (docs/drift.md, "Delivery").
"""

from __future__ import annotations

import dataclasses
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from charts_py import contract, gitrepo
from charts_py.drift import fetch, run
from charts_py.drift.model import Report
from charts_py.errors import (
    ClusterUnreachable,
    PermanentApiError,
    RetryableApiError,
    SnapshotError,
)
from charts_py.report import alerts, formats, history, html, metrics, notify, pushgateway, snapshot


@dataclass(frozen=True, kw_only=True)
class Render:
    """How the report is shown: a format, to a file or stdout; text lists every difference
    with `details`."""

    format: str = "text"
    output: Path | None = None
    details: bool = False


@dataclass(frozen=True, kw_only=True)
class Deliver:
    """Where the report goes besides the output: all optional, all best effort."""

    notify: str | None = None
    notify_format: str = "json"
    digest_weekday: str | None = None
    """On this weekday (UTC) the message also lists what persists, and is sent regardless."""
    metrics_file: Path | None = None
    pushgateway: str | None = None


@dataclass(frozen=True, kw_only=True)
class Job:
    """One nightly run: what to compare, and what to do with the report."""

    drift: run.Options
    render: Render = Render()
    deliver: Deliver = Deliver()
    snapshot: bool = False
    snapshot_branch: str = contract.SNAPSHOT_BRANCH
    push: str | None = None
    propose_branch: str | None = None


def nightly(job: Job, *, out: Console, err: Console) -> Report:
    """Run the job's sequence; the report (with its proposal link, if one was made)."""
    started = time.monotonic()
    with err.status(f"drift {job.drift.env}: reading git and the cluster..."):
        report, live = _drift(job.drift, err)
    seconds = time.monotonic() - started
    report, index = _history(job, report)
    if job.propose_branch and report.drifted and report.complete:
        report = _propose(job, report, err)
    show(report, job.render, out)
    deliver(report, job.deliver, seconds, err)
    if job.snapshot:
        sha = snapshot.commit(
            report,
            live,
            repo=job.drift.repo,
            branch=job.snapshot_branch,
            push=job.push,
            index=index,
        )
        err.print(f"snapshot {sha[:12]} on {job.snapshot_branch}", markup=False)
    return report


def _drift(options: run.Options, err: Console) -> tuple[Report, fetch.Live]:
    """The run; one that cannot reach the cluster at all is an incomplete report (exit 2,
    the error said on stderr as before), delivered and snapshotted like any other: silence
    would read as "nothing new". Bad input still stops the run: exit 2, nothing sent."""
    started = run.now()
    try:
        return run.run(options)
    except (ClusterUnreachable, RetryableApiError, PermanentApiError) as exc:
        err.print(f"meshops: error: {exc}", markup=False)
        return run.unfinished(options, started, f"could not read the cluster: {exc}")


def _history(job: Job, report: Report) -> tuple[Report, history.Index]:
    """Tonight's findings with their life, from the latest index of this env and cluster on
    the snapshot branch (local, or the push remote's when the job runs from a fresh clone)."""
    repo = gitrepo.open_repo(job.drift.repo)
    refs = history.history_refs(job.snapshot_branch, job.push)
    try:
        before = history.previous(repo, refs, report.env, report.cluster)
    except SnapshotError as exc:  # an unreadable index must not cost the night's check
        note = f"history unreadable ({exc}): every finding is reported as new tonight"
        report, before = dataclasses.replace(report, notes=(*report.notes, note)), None
    return history.track(report, before)


def _propose(job: Job, report: Report, err: Console) -> Report:
    """The report with the adoption branch made from it (docs/propose.md, "Nightly").
    Imported here: propose renders again, which only this step needs."""
    from charts_py.propose import nightly as propose

    assert job.propose_branch is not None
    with err.status("proposing an adoption branch (re-rendering the environment)..."):
        link = propose.adopt(
            report,
            repo=job.drift.repo,
            dist=job.drift.dist,
            prefix=job.propose_branch,
            push=job.push,
        )
    if link.error:
        err.print(f"meshops: warning: propose: {link.error}", markup=False)
    return dataclasses.replace(report, proposal=link)


def show(report: Report, how: Render, out: Console) -> None:
    """The report in its format, to `how.output` or stdout (`out` for text)."""
    if how.format == "text":
        with how.output.open("w", encoding="utf-8") if how.output else nullcontext() as file:
            console = Console(file=file, highlight=False, width=160) if file else out
            formats.text(report, console, details=how.details)
        return
    rendered = {
        "json": formats.json_text,
        "markdown": formats.markdown,
        "junit": formats.junit,
        "html": html.page,
    }[how.format](report)
    if how.output:
        how.output.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)


def deliver(report: Report, where: Deliver, seconds: float, err: Console) -> None:
    """Metrics file, Pushgateway and webhook (only with something to alert, an incomplete
    run or the digest: report/alerts.py); a failure is one warning line."""
    if where.metrics_file:
        try:
            metrics.write(report, where.metrics_file, seconds)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            err.print(f"meshops: warning: metrics {where.metrics_file}: {reason}", markup=False)
    if where.pushgateway:
        sent = pushgateway.push(report, where.pushgateway, seconds)
        _said("pushgateway", where.pushgateway, sent, err)
    if where.notify:
        digest = alerts.digest_due(report, where.digest_weekday)
        if not alerts.worth_sending(report, digest):
            err.print(f"notify {notify.redact(where.notify)}: nothing new, not sent", markup=False)
            return
        sent = notify.deliver(report, where.notify, where.notify_format, digest=digest)
        _said("notify", where.notify, sent, err)


def _said(what: str, url: str, sent: notify.Delivery, err: Console) -> None:
    """One stderr line per delivery, the URL redacted (webhook paths carry their secret)."""
    where = notify.redact(url)
    tries = f"{sent.attempts} attempt{'' if sent.attempts == 1 else 's'}"
    if sent.ok:
        err.print(f"{what} {where}: delivered (HTTP {sent.status}, {tries})", markup=False)
    else:
        err.print(f"meshops: warning: {what} {where}: {sent.reason} ({tries})", markup=False)
