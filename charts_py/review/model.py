"""What a review reports: changes in the mesh's own terms, each with a fixed risk class.

A classifier judges one object of one cluster and says what changed (`Change`); the run adds
where each change comes from and whom it affects, and merges the changes that are the same in
every cluster into one `Reported` change listing the clusters (the JSON contract's unit).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from charts_py.objectref import ObjectRef

SCHEMA_VERSION = 1

KINDS = (
    "traffic-shift",
    "timeout",
    "retries",
    "outlier",
    "fault",
    "mtls",
    "authorization",
    "exposure",
    "egress",
    "autoscaling",
    "revision",
    "object-added",
    "object-removed",
    "other",
)
"""Every change kind of the JSON contract, in the order reports list them."""


class Risk(enum.IntEnum):
    """The fixed risk classes (docs/review.md has the table), ordered so `>=` gates."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def named(cls, name: str) -> Risk:
        return cls[name.upper()]


@dataclass(frozen=True)
class Change:
    """One change of one object in one cluster, as a classifier judged it."""

    kind: str
    before: Any
    after: Any
    risk: Risk
    why: str
    """The rule of the risk table that applied, in words (text and Markdown show it)."""
    paths: tuple[str, ...]
    """The JSON Pointers of the object this change covers (its source is the first's)."""
    service: str | None = None
    """Set by a classifier that knows better than the object's own service (an ingress
    route names the service it routes to)."""
    source_at: tuple[str, str] | None = None
    """(side, JSON Pointer) where the change's source is recorded, when that is not its first
    path at the side that has the object: the principal of a caller added (`head`) or taken
    away (`base`, whose environment file still has the `calls` entry)."""


@dataclass(frozen=True)
class Located:
    """A `Change` with the object and cluster it was found in."""

    change: Change
    env: str
    cluster: str
    service: str | None
    namespace: str
    ref: ObjectRef
    file: str
    """The dist path of the object at the side it was read from (head, or base if removed)."""
    removed: bool = False


@dataclass(frozen=True)
class BlastRadius:
    """Who a change affects beyond its own service."""

    callers: tuple[str, ...] = ()
    """Services whose AuthorizationPolicy-granted calls reach it (`ns/name` across namespaces)."""
    ingress_hosts: tuple[str, ...] = ()
    """Hosts of gateway-bound VirtualServices that route to it."""


@dataclass(frozen=True)
class Reported:
    """A change as the report lists it: merged across the clusters where it is the same."""

    env: str
    clusters: tuple[str, ...]
    service: str | None
    namespace: str
    kind: str
    before: Any
    after: Any
    risk: Risk
    why: str
    blast: BlastRadius
    source: dict[str, Any]
    objects: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "clusters": list(self.clusters),
            "service": self.service,
            "namespace": self.namespace,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "risk": self.risk.label,
            "blastRadius": {
                "callers": list(self.blast.callers),
                "ingressHosts": list(self.blast.ingress_hosts),
            },
            "source": self.source,
            "objects": list(self.objects),
        }


@dataclass(frozen=True)
class Side:
    """One end of the comparison: a commit, or the working tree (`commit` None)."""

    ref: str
    commit: str | None

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "commit": self.commit}

    @property
    def shown(self) -> str:
        return self.ref if self.commit is None else f"{self.ref} ({self.commit[:12]})"


@dataclass(frozen=True)
class Review:
    """The whole review: both sides, the changes, and what was rendered instead of read."""

    base: Side
    head: Side
    changes: tuple[Reported, ...]
    notes: tuple[str, ...] = ()
    """What the reader must know: a side rendered because its dist/ was stale, and why."""
    environments: tuple[str, ...] = field(default=())

    @property
    def risk(self) -> Risk | None:
        """The highest risk of any change (None when nothing changed)."""
        return max((c.risk for c in self.changes), default=None)

    def summary(self) -> dict[str, Any]:
        by_risk = {r.label: sum(c.risk == r for c in self.changes) for r in reversed(Risk)}
        by_kind = {k: n for k in KINDS if (n := sum(c.kind == k for c in self.changes))}
        return {
            "changes": len(self.changes),
            "risk": self.risk.label if self.risk else None,
            "byRisk": by_risk,
            "byKind": by_kind,
            "environments": list(self.environments),
            "notes": list(self.notes),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "changes": [c.to_json() for c in self.changes],
            "summary": self.summary(),
        }
