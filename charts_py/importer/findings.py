"""What the chosen profile would change in the adopted mesh, as findings a team can act on
in later, reviewed steps: every traffic or security object the environment renders that no
source object became (with `--profile none`, there is none: that is verified here too)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from charts_py.importer.model import Verdict
from charts_py.importer.verify import Rendered
from charts_py.objectref import Key, ObjectRef

MESH_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io")
"""Objects of these groups change traffic, security or telemetry when they appear."""


def added(profile: str, verdicts: Sequence[Verdict], rendered: Rendered) -> list[str]:
    """`<profile> would add <Kind> <name> in <namespace>`, one per object no source became."""
    claimed: set[Key] = {v.rendered_as.key for v in verdicts if v.rendered_as is not None}
    return [
        f"{profile} would add {ref.kind} {ref.name} in {ref.namespace or '(cluster)'}"
        for ref in sorted(_mesh(rendered.objects.values()))
        if ref.key not in claimed
    ]


def _mesh(objects: Iterable[dict[str, Any]]) -> list[ObjectRef]:
    refs = (ObjectRef.of(o) for o in objects)
    return [ref for ref in refs if ref.group in MESH_GROUPS]
