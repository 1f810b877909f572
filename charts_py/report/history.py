"""Findings across nights: which of tonight's differences are new, persisting, regressed or
waived, and which of last night's are resolved.

A finding is a difference at one path of one object (`model.finding_id`), the same finding
every night while that path differs, whatever the live value. The history is the snapshot
branch, but a run reads one small file of it, not every night: each snapshot folder holds
`findings.json` (`INDEX`), the index of the findings after that run, carried forward run
after run (first seen, runs seen, state, and the resolved ones kept `RESOLVED_KEPT` long to
tell a regression from a new finding). So a run with 365 nights behind it reads what a run
with one night behind it reads: one `ls-tree` of its cluster's folder and one blob.

An object tonight's run could not check (its kind unknown, or the whole run incomplete) is
not resolved: its findings are carried unchanged, because unverified is not clean.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from charts_py import gitrepo
from charts_py.drift.model import (
    Difference,
    Finding,
    Report,
    Resolved,
    Result,
    State,
    Status,
    Waiver,
    finding_id,
)
from charts_py.errors import SnapshotError
from charts_py.objectref import Key, ObjectRef
from charts_py.report import formats

INDEX = "findings.json"
INDEX_VERSION = 1
RESOLVED_KEPT = timedelta(days=90)
"""A finding resolved longer ago than this that comes back is new, not regressed."""
SNAPSHOT_FOLDER = re.compile(r"^\d{8}T\d{6}Z$")
"""`<YYYYMMDDTHHMMSSZ>`: drift snapshot folders (backup folders are named otherwise)."""


@dataclass(frozen=True)
class Entry:
    """One finding in the index: where it is, its life so far, and the state it had."""

    id: str
    api_version: str
    kind: str
    namespace: str
    name: str
    path: str
    state: State
    severity: str | None
    first_seen: str
    last_seen: str
    runs: int
    resolved_at: str | None = None
    waiver_expired: str | None = None

    @property
    def key(self) -> Key:
        return ObjectRef(self.api_version, self.kind, self.namespace, self.name).key

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "state": str(self.state),
            "severity": self.severity,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "runs": self.runs,
        }
        if self.resolved_at:
            out["resolvedAt"] = self.resolved_at
        if self.waiver_expired:
            out["waiverExpired"] = self.waiver_expired
        return out

    @classmethod
    def of(cls, data: dict[str, Any]) -> Entry:
        return cls(
            id=str(data["id"]),
            api_version=str(data["apiVersion"]),
            kind=str(data["kind"]),
            namespace=str(data["namespace"]),
            name=str(data["name"]),
            path=str(data["path"]),
            state=State(data["state"]),
            severity=data.get("severity"),
            first_seen=str(data["firstSeen"]),
            last_seen=str(data["lastSeen"]),
            runs=int(data["runs"]),
            resolved_at=data.get("resolvedAt"),
            waiver_expired=data.get("waiverExpired"),
        )


@dataclass(frozen=True)
class Index:
    """The findings after one run (`findings.json`): the open ones (waived and those
    carried unchecked included) and the recently resolved ones; plus what the fleet page
    shows of the run."""

    env: str
    cluster: str
    started_at: str
    finished_at: str
    complete: bool
    verdict: str
    findings: tuple[Entry, ...]
    resolved: tuple[Entry, ...]
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "indexVersion": INDEX_VERSION,
            "env": self.env,
            "cluster": self.cluster,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "complete": self.complete,
            "verdict": self.verdict,
            "errors": list(self.errors),
            "findings": [e.to_json() for e in self.findings],
            "resolved": [e.to_json() for e in self.resolved],
        }

    def text(self) -> bytes:
        return (json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n").encode()

    @classmethod
    def parse(cls, data: bytes, where: str) -> Index:
        """The index in `data`; a SnapshotError naming `where` when it cannot be read."""
        try:
            raw = json.loads(data)
            return cls(
                env=str(raw["env"]),
                cluster=str(raw["cluster"]),
                started_at=str(raw["startedAt"]),
                finished_at=str(raw["finishedAt"]),
                complete=bool(raw["complete"]),
                verdict=str(raw.get("verdict", "")),
                findings=tuple(Entry.of(e) for e in raw["findings"]),
                resolved=tuple(Entry.of(e) for e in raw["resolved"]),
                errors=tuple(str(e) for e in raw.get("errors", ())),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(f"{where}: not a findings index ({exc})") from None


# --- reading the previous run -------------------------------------------------------------


def history_refs(branch: str, remote: str | None) -> tuple[str, ...]:
    """Where the previous runs are: the local snapshot branch and, for a job that pushes from
    a fresh clone (which has only the remote's branch), the remote-tracking one."""
    local = f"refs/heads/{branch}"
    return (local, f"refs/remotes/{remote}/{branch}") if remote else (local,)


def previous(repo: gitrepo.Repo, refs: Iterable[str], env: str, cluster: str) -> Index | None:
    """The index of the latest run of (env, cluster) on any of `refs`, or None before the
    first run that wrote one. Two git calls per ref: the cluster folder's listing and one blob."""
    found: list[Index] = []
    for ref in refs:
        commit = gitrepo.tip(repo, ref)
        if commit is None:
            continue
        index = latest(repo, commit, [(env, cluster)]).get((env, cluster))
        if index is not None:
            found.append(index)
    return max(found, key=lambda i: when(i.started_at), default=None)


def latest(
    repo: gitrepo.Repo, commit: str, clusters: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Index]:
    """The latest index of each (env, cluster) at `commit`: one `ls-tree` of their folders,
    one `cat-file --batch` of the newest snapshot folder's index each."""
    folders = {f"{env}/{cluster}": (env, cluster) for env, cluster in clusters}
    names = gitrepo.listings(repo, commit, folders)
    paths: dict[str, tuple[str, str]] = {}
    for folder, pair in folders.items():
        runs = [n for n in names.get(folder, []) if SNAPSHOT_FOLDER.match(n)]
        if runs:
            paths[f"{folder}/{max(runs)}/{INDEX}"] = pair
    blobs = gitrepo.read_files(repo, commit, paths)
    return {
        paths[path]: Index.parse(data, path) for path, data in blobs.items() if data is not None
    }


# --- tonight ------------------------------------------------------------------------------


def track(report: Report, before: Index | None) -> tuple[Report, Index]:
    """Tonight's report with each finding's life (and the resolved ones), and the index to
    keep in tonight's snapshot."""
    now = when(report.started_at)
    open_before = {e.id: e for e in before.findings} if before else {}
    resolved_before = {e.id: e for e in before.resolved} if before else {}
    results: list[Result] = []
    tonight: dict[str, Entry] = {}
    for result in report.results:
        tracked = _track_result(result, now, report.started_at, open_before, resolved_before)
        results.append(tracked)
        for entry in _entries(tracked, report.started_at):
            tonight[entry.id] = entry
    checked = _checker(report)
    missed = [e for e in open_before.values() if e.id not in tonight]
    carried = [e for e in missed if not checked(e.key)]
    gone = [e for e in missed if checked(e.key)]
    resolved = tuple(
        Resolved(e.id, e.api_version, e.kind, e.namespace, e.name, e.path, e.first_seen)
        for e in sorted(gone, key=_order)
    )
    kept = [
        e
        for e in resolved_before.values()
        if e.id not in tonight and e.resolved_at and now - when(e.resolved_at) <= RESOLVED_KEPT
    ]
    kept += [
        dataclasses.replace(e, state=State.RESOLVED, resolved_at=report.started_at) for e in gone
    ]
    index = Index(
        env=report.env,
        cluster=report.cluster,
        started_at=report.started_at,
        finished_at=report.finished_at,
        complete=report.complete,
        verdict=formats.verdict(report),
        findings=tuple(sorted([*tonight.values(), *carried], key=_order)),
        resolved=tuple(sorted(kept, key=_order)),
        errors=report.errors,
    )
    return dataclasses.replace(report, results=tuple(results), resolved=resolved), index


def _track_result(
    result: Result,
    now: datetime,
    started_at: str,
    open_before: dict[str, Entry],
    resolved_before: dict[str, Entry],
) -> Result:
    def life(path: str, waiver: Waiver | None) -> Finding:
        return _finding(result.ref, path, waiver, now, started_at, open_before, resolved_before)

    if result.status in (Status.MISSING, Status.EXTRA):
        return dataclasses.replace(result, finding=life("", result.waiver))
    if result.status != Status.MODIFIED:
        return result
    differences: tuple[Difference, ...] = tuple(
        dataclasses.replace(d, finding=life(d.path, d.waiver)) for d in result.differences
    )
    return dataclasses.replace(result, differences=differences)


def _finding(
    ref: ObjectRef,
    path: str,
    waiver: Waiver | None,
    now: datetime,
    started_at: str,
    open_before: dict[str, Entry],
    resolved_before: dict[str, Entry],
) -> Finding:
    """New, persisting or regressed from the index; waived while a waiver is in force."""
    fid = finding_id(ref, path)
    state, first_seen, runs = State.NEW, started_at, 1
    if fid in open_before:
        before = open_before[fid]
        state, first_seen, runs = State.PERSISTING, before.first_seen, before.runs + 1
    elif fid in resolved_before:
        before = resolved_before[fid]
        state, first_seen, runs = State.REGRESSED, before.first_seen, before.runs + 1
    if waiver is not None and waiver.in_force(now):
        state = State.WAIVED
    previously = open_before[fid].state if fid in open_before else None
    return Finding(fid, state, first_seen, runs, waiver, previously)


def _entries(result: Result, started_at: str) -> Iterator[Entry]:
    ref = result.ref
    for path, finding, severity in result.findings():
        if finding is None:
            continue
        yield Entry(
            id=finding.id,
            api_version=ref.api_version,
            kind=ref.kind,
            namespace=ref.namespace,
            name=ref.name,
            path=path,
            state=finding.state,
            severity=str(severity) if severity else None,
            first_seen=finding.first_seen,
            last_seen=started_at,
            runs=finding.runs,
            waiver_expired=finding.waiver.expires.isoformat()
            if finding.waiver_expired and finding.waiver
            else None,
        )


def _checker(report: Report) -> Callable[[Key], bool]:
    """Whether tonight's run verified an object: not when it is unknown, nor, in a run with
    run errors (a kind not listed, an unreachable cluster), when it has no verdict."""
    unknown = {r.ref.key for r in report.results if r.status == Status.UNKNOWN}
    judged = {r.ref.key for r in report.results if r.status != Status.UNKNOWN}
    partial = bool(report.errors)
    return lambda key: key not in unknown and (key in judged or not partial)


def _order(entry: Entry) -> tuple[str, str, str, str, str]:
    return entry.kind, entry.namespace, entry.name, entry.path, entry.id


def when(text: str) -> datetime:
    """An RFC 3339 time; a time without a zone is refused rather than guessed."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SnapshotError(f"time {text!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise SnapshotError(f"time {text!r} has no time zone")
    return moment.astimezone(UTC)
