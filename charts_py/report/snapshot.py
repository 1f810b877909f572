"""What a drift snapshot holds: the report (JSON and Markdown), the findings index the next
run reads (report/history.py) and the masked live YAML of every divergent object, as files for
`gitrepo.commit_snapshot` under `folder(...)`.

Masking happens earlier in the pipeline; the Secret check here is defence in depth, because a
snapshot is committed and pushed, and a leaked value in git history is hard to take back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from charts_py import gitrepo
from charts_py.drift.model import Report, Status
from charts_py.errors import SnapshotError
from charts_py.objectref import ObjectRef
from charts_py.report import formats, history

MASK_PREFIX = "<masked:"
SNAPSHOT_STATUSES = (Status.MODIFIED, Status.EXTRA)  # the ones with a live object to keep


class LiveObjects(Protocol):
    """Live objects by identity (`ObjectRef.key`), as the fetch step returns them."""

    @property
    def objects(self) -> Mapping[tuple[str, str, str, str], dict[str, Any]]: ...


def commit(
    report: Report,
    live: LiveObjects,
    *,
    repo: Path | None,
    branch: str,
    push: str | None,
    index: history.Index | None = None,
) -> str:
    """Commit this run's snapshot to `branch` (and push it); a commit that contains it.
    `index` is the findings index the next run reads (`findings.json`)."""
    repository = gitrepo.open_repo(repo)
    keep = (r.ref for r in report.results if r.status in SNAPSHOT_STATUSES)
    objects = {ref: live.objects[ref.key] for ref in keep if ref.key in live.objects}
    where = folder(report.env, report.cluster, report.started_at)
    message = f"meshops drift {where}: {formats.verdict(report)}\n\ngit {report.git.commit}\n"
    written = files(report, objects)
    if index is not None:
        written[history.INDEX] = index.text()
    sha = gitrepo.commit_snapshot(repository, branch, where, written, message)
    if push is None:
        return sha
    gitrepo.push(repository, push, branch)
    # After a lost race our commit was replayed onto the remote tip: report that tip instead.
    return gitrepo.resolve(repository, f"refs/heads/{branch}")


def files(report: Report, live_objects: dict[ObjectRef, dict[str, Any]]) -> dict[str, bytes]:
    """`report.json`, `report.md` and one YAML per modified or extra object, by file name."""
    out = {
        "report.json": formats.json_text(report).encode(),
        "report.md": formats.markdown(report).encode(),
    }
    for result in sorted(report.results, key=lambda r: r.ref):
        if result.status not in SNAPSHOT_STATUSES:
            continue
        obj = live_objects.get(result.ref)
        if obj is None:
            raise SnapshotError(f"{result.ref}: {result.status}, but no live object to snapshot")
        refuse_unmasked(result.ref, obj)
        name = file_name(result.ref)
        if name in out:
            raise SnapshotError(f"{result.ref}: two objects would be written to {name}")
        out[name] = yaml.safe_dump(obj, sort_keys=True, allow_unicode=True).encode()
    return out


def file_name(ref: ObjectRef) -> str:
    """`<Kind>.<group|core>.<namespace|_cluster>.<name>.yaml`: one flat, sortable folder."""
    parts = [ref.kind, ref.namespace or "_cluster", ref.name]
    if any(not p or "/" in p or p in (".", "..") for p in parts):
        raise SnapshotError(f"{ref}: cannot be written as a snapshot file name")
    return ref.file_name()


def folder(env: str, cluster: str, started_at: str | datetime) -> str:
    """`<env>/<cluster>/<YYYYMMDDTHHMMSSZ>`: where a run's snapshot goes (UTC start time)."""
    when = _utc(started_at)
    for part in (env, cluster):
        if not part or "/" in part or part in (".", ".."):
            raise SnapshotError(f"{part!r} cannot name a snapshot folder")
    return f"{env}/{cluster}/{when:%Y%m%dT%H%M%SZ}"


def refuse_unmasked(ref: ObjectRef, obj: dict[str, Any]) -> None:
    """Raise if a Secret still carries a value that is not a mask token (never write it)."""
    if ref.kind != "Secret":
        return
    for field in ("data", "stringData"):
        values = obj.get(field) or {}
        if not isinstance(values, dict):
            raise SnapshotError(f"{ref}: {field} is not a map; refusing to snapshot it")
        for key, val in values.items():
            if not (isinstance(val, str) and val.startswith(MASK_PREFIX)):
                raise SnapshotError(
                    f"{ref}: {field}.{key} is not masked; refusing to write a Secret value "
                    "to the snapshot (mask live objects before snapshotting)"
                )


def _utc(started_at: str | datetime) -> datetime:
    """`started_at` in UTC; a time without a zone is refused rather than guessed."""
    try:
        when = (
            started_at if isinstance(started_at, datetime) else datetime.fromisoformat(started_at)
        )
    except ValueError:
        raise SnapshotError(f"start time {started_at!r} is not an ISO 8601 timestamp") from None
    if when.tzinfo is None:
        raise SnapshotError(f"start time {started_at!s} has no time zone; cannot name a UTC folder")
    return when.astimezone(UTC)
