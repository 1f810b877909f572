"""Typed results of a drift run, and their JSON form (the report contract).

schemaVersion 2 keeps every key of version 1 with its meaning and adds `confirmedBy`, per
object and per run: whether a server-side dry-run confirmed the verdict or it stands on the
local comparison, and why. schemaVersion 3 keeps every key of version 2 and adds `source` to
each difference: where git's value at that path comes from (provenance.origin_to_json: an
environment-file field with its line, a profile default and the field that would override it,
or `{"generated": ...}`), looked up in the provenance side file synth wrote at the same commit
(drift/sources.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from charts_py import provenance
from charts_py.objectref import ObjectRef

SCHEMA_VERSION = 3


class Status(enum.StrEnum):
    """Verdict per object."""

    IN_SYNC = "in-sync"
    MODIFIED = "modified"
    MISSING = "missing"
    EXTRA = "extra"
    UNKNOWN = "unknown"


class Severity(enum.StrEnum):
    """How much a difference matters; an object takes its worst difference's severity."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)  # 0 is the worst


class Change(enum.StrEnum):
    """What happened at a path, seen from git: changed value, added in live, removed from live."""

    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


class Method(enum.StrEnum):
    """How a verdict was reached."""

    SERVER_DRY_RUN = "server-dry-run"
    LOCAL = "local"


@dataclass(frozen=True)
class Confirmation:
    """How one comparison was confirmed; `reason` says why it stands on the local one."""

    method: Method
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"method": str(self.method), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.method} ({self.reason})" if self.reason else str(self.method)


DRY_RUN = Confirmation(Method.SERVER_DRY_RUN)
NOT_NEEDED = Confirmation(Method.LOCAL, "not needed")  # nothing found locally to confirm
FORBIDDEN = Confirmation(Method.LOCAL, "forbidden")  # RBAC refused the dry-run (read-only job)
NOT_SERVED = Confirmation(Method.LOCAL, "not served")  # git's apiVersion is not served
SECRET = Confirmation(Method.LOCAL, "secret")  # never sent: the answer would carry values
NO_SERVER = Confirmation(Method.LOCAL, "no server")  # --live-dir: nothing to ask


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One divergent field: JSON Pointer path, values, and who last wrote it (managedFields)."""

    path: str
    change: Change
    desired: Any = None
    live: Any = None
    manager: str | None = None
    operation: str | None = None
    time: str | None = None
    severity: Severity = Severity.LOW
    source: provenance.Origin | None = None
    """Where git's value at `path` comes from (drift/sources.py); None only before lookup."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "change": str(self.change),
            "desired": self.desired,
            "live": self.live,
            "manager": self.manager,
            "operation": self.operation,
            "time": self.time,
            "severity": str(self.severity),
            "source": provenance.origin_to_json(self.source) if self.source else None,
        }


@dataclass(frozen=True)
class Result:
    """The verdict on one object."""

    ref: ObjectRef
    status: Status
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    ignored: int = 0
    severity: Severity | None = None
    confirmed_by: Confirmation | None = None
    """None where nothing was compared: missing, extra and unknown objects."""

    def to_json(self) -> dict[str, Any]:
        return {
            **self.ref.to_json(),
            "status": str(self.status),
            "severity": str(self.severity) if self.severity else None,
            "differences": [d.to_json() for d in self.differences],
            "ignored": self.ignored,
            "error": self.error,
            "confirmedBy": self.confirmed_by.to_json() if self.confirmed_by else None,
        }


@dataclass(frozen=True)
class GitSource:
    """Where the desired state came from."""

    ref: str
    commit: str
    path: str


@dataclass(frozen=True)
class ProposalLink:
    """The adoption `meshops drift --propose-branch` made after this run: its branch (None
    when nothing was adopted or it failed, `error` says why)."""

    branch: str | None
    commit: str | None
    adopted: int
    cannot_adopt: int
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "commit": self.commit,
            "adopted": self.adopted,
            "cannotAdopt": self.cannot_adopt,
            "error": self.error,
        }

    def __str__(self) -> str:
        if self.error:
            return f"no adoption branch: {self.error}"
        if self.branch is None:
            return (
                f"nothing to adopt ({self.cannot_adopt} differences need a revert or a hand edit)"
            )
        return (
            f"branch {self.branch} adopts {self.adopted} live value(s) "
            f"({self.cannot_adopt} cannot be adopted automatically)"
        )


@dataclass(frozen=True, kw_only=True)
class Report:
    """A whole drift run for one (env, cluster)."""

    env: str
    cluster: str
    git: GitSource
    started_at: str
    finished_at: str
    results: tuple[Result, ...]
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    proposal: ProposalLink | None = None
    """Set by `--propose-branch` once the run found drift (the JSON key `proposal`)."""

    @property
    def complete(self) -> bool:
        """False whenever anything could not be checked: then there is no clean verdict."""
        return not self.errors and all(r.status != Status.UNKNOWN for r in self.results)

    @property
    def drifted(self) -> bool:
        return any(
            r.status in (Status.MODIFIED, Status.MISSING, Status.EXTRA) for r in self.results
        )

    def summary(self) -> dict[str, int]:
        counts = {"objects": len(self.results), **{str(s): 0 for s in Status}}
        for r in self.results:
            counts[str(r.status)] += 1
        counts["ignored"] = sum(r.ignored for r in self.results)
        return counts

    def confirmations(self) -> dict[str, Any]:
        """Per run: objects confirmed by a dry-run, objects left to the local comparison,
        and the local ones by reason."""
        reasons: dict[str, int] = {}
        counts = {str(m): 0 for m in Method}
        for r in self.results:
            if r.confirmed_by is not None:
                counts[str(r.confirmed_by.method)] += 1
                if r.confirmed_by.reason:
                    reasons[r.confirmed_by.reason] = reasons.get(r.confirmed_by.reason, 0) + 1
        return {**counts, "localReasons": dict(sorted(reasons.items()))}

    def exit_code(self) -> int:
        """0 in sync, 1 drift found, 2 could not complete (the contract)."""
        if not self.complete:
            return 2
        return 1 if self.drifted else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "env": self.env,
            "cluster": self.cluster,
            "git": {"ref": self.git.ref, "commit": self.git.commit, "path": self.git.path},
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "complete": self.complete,
            "summary": self.summary(),
            "errors": list(self.errors),
            "confirmedBy": self.confirmations(),
            "notes": list(self.notes),
            "resources": [r.to_json() for r in sorted(self.results, key=lambda r: r.ref)],
            **({"proposal": self.proposal.to_json()} if self.proposal else {}),
        }
