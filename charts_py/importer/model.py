"""Typed results of an import, and their JSON form (the report contract, schemaVersion 1).

```
{"schemaVersion": 1, "env": ..., "summary": {"exact": n, "approximate": n, "not-expressible": n},
 "objects": [{"apiVersion", "kind", "namespace", "name", "status",
   "renderedAs": {"apiVersion", "kind", "namespace", "name"} | null,
   "via": "model" | "extension" | null,
   "differences": [{"path", "source", "rendered", "why"}], "reason": str | null}]}
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from charts_py.objectref import ObjectRef

SCHEMA_VERSION = 1


class Status(enum.StrEnum):
    """What the rendered environment makes of one source object."""

    EXACT = "exact"
    """The rendered object's spec equals the source's (drift's normalisation)."""
    APPROXIMATE = "approximate"
    """Rendered, with differences (each with its path and why)."""
    NOT_EXPRESSIBLE = "not-expressible"
    """No typed field says it (the reason says why): carried as written in `extensions:`
    (`via: extension`), or left out of band (`via: null`, not rendered)."""


class Via(enum.StrEnum):
    """Where in the environment file an object went."""

    MODEL = "model"
    """A typed field (a service's routes, `virtualServices`, ...)."""
    EXTENSION = "extension"
    """`extensions:`, as written."""


class Inexpressible(enum.StrEnum):
    """`--not-expressible`: what becomes of an object no typed field can say."""

    EXTENSION = "extension"
    OUT_OF_BAND = "out-of-band"


@dataclass(frozen=True, kw_only=True)
class Difference:
    """One path (JSON Pointer) where the rendered object differs from its source."""

    path: str
    source: Any
    rendered: Any
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "source": self.source,
            "rendered": self.rendered,
            "why": self.why,
        }


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One source object's outcome."""

    ref: ObjectRef
    status: Status
    rendered_as: ObjectRef | None
    via: Via | None
    differences: tuple[Difference, ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        rendered = self.rendered_as
        return {
            **self.ref.to_json(),
            "status": str(self.status),
            "renderedAs": None if rendered is None else rendered.to_json(),
            "via": None if self.via is None else str(self.via),
            "differences": [d.to_json() for d in self.differences],
            "reason": self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class Report:
    """Every source object's verdict, what the profile would change, and the notes."""

    env: str
    verdicts: tuple[Verdict, ...]
    findings: tuple[str, ...] = ()
    """What the chosen profile adds beyond the adopted mesh (`prod would add ...`)."""
    refusals: tuple[str, ...] = ()
    """Validate's errors on the rendered file: what `meshops synth` would stop on (a conflict
    the running mesh already has); empty when synth would take the file as it is."""
    notes: tuple[str, ...] = field(default=())
    """Files skipped while reading, and other remarks."""

    def count(self, status: Status) -> int:
        return sum(1 for v in self.verdicts if v.status is status)

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "env": self.env,
            "summary": {str(s): self.count(s) for s in Status},
            "objects": [v.to_json() for v in self.verdicts],
        }
