"""Typed results of a drift run, and their JSON form (the report contract, schemaVersion 1)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from charts_py.objectref import ObjectRef

SCHEMA_VERSION = 1


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


@dataclass(frozen=True)
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

    def to_json(self) -> dict[str, Any]:
        return {
            **self.ref.to_json(),
            "status": str(self.status),
            "severity": str(self.severity) if self.severity else None,
            "differences": [d.to_json() for d in self.differences],
            "ignored": self.ignored,
            "error": self.error,
        }


@dataclass(frozen=True)
class GitSource:
    """Where the desired state came from."""

    ref: str
    commit: str
    path: str


@dataclass(frozen=True)
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
            "resources": [r.to_json() for r in sorted(self.results, key=lambda r: r.ref)],
        }
