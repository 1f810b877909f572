"""From source objects to a verified environment file: place, write, render, compare; move
every object whose placement did not render it as it is one level down, and again, until
each verdict stands on the file that will be written (at most one pass per level)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from charts_py.config import installation
from charts_py.importer import findings, placement, verify, yamlfile
from charts_py.importer.model import Report, Verdict
from charts_py.importer.placement import Level, Placed, Target
from charts_py.objectref import ObjectRef

HEADER = (
    "Written by `meshops import` (docs/import.md); its report gives each object's verdict.",
    f"clusters[0].region: `{placement.UNKNOWN_REGION}` until you set it (no source says it).",
)


@dataclass(frozen=True, kw_only=True)
class Adopted:
    """The environment file's text and the verified report about it."""

    text: str
    report: Report


def adopt(
    objects: Sequence[dict[str, Any]], target: Target, display: str, notes: Sequence[str] = ()
) -> Adopted:
    """The file that reproduces `objects` and each object's verified verdict; `display` is
    the file's path as messages show it."""
    demoted: dict[ObjectRef, tuple[Level, str]] = {}
    while True:
        plan = placement.plan(objects, target, demoted)
        text = yamlfile.dump(plan.data, list(HEADER))
        with verify.render(text, target.env, display) as rendered:
            verdicts = verify.verdicts(plan.placed, objects, rendered)
            moved = _demotions(plan.placed, verdicts)
            if not moved or all(ref in demoted and demoted[ref] == m for ref, m in moved.items()):
                report = Report(
                    env=target.env,
                    verdicts=tuple(verdicts),
                    findings=tuple(findings.added(target.profile, verdicts, rendered)),
                    refusals=tuple(verify.refusals(rendered)),  # validation ran meanwhile
                    notes=tuple(notes),
                )
                return Adopted(text=text, report=report)
        demoted |= moved


def _demotions(
    placed: Sequence[Placed], verdicts: Sequence[Verdict]
) -> dict[ObjectRef, tuple[Level, str]]:
    """Each movable object that did not render as it is: the next level down, and why."""
    out = {}
    for where, verdict in zip(placed, verdicts, strict=True):
        movable = where.via is not None and where.ref.kind != "Namespace"
        if verdict.differences and movable and where.level < Level.OUT_OF_BAND:
            first = verdict.differences[0]
            why = f"{_LEVELS[where.level]} renders {first.path} otherwise ({first.why})"
            out[where.ref] = (Level(where.level + 1), why)
    return out


_LEVELS = {
    Level.SERVICE: "the service's own fields",
    Level.TOP: "the typed field",
    Level.EXTENSION: "the extension",
}


def platform_namespace(objects: Sequence[dict[str, Any]], given: Sequence[str]) -> str:
    """The environment's own namespace: the first one given, else the one most Istio objects
    (then most objects) live in, the first by name on a tie, never one meshops keeps for
    itself (`istio-system`, ...); `default` when none has any."""
    if given:
        return given[0]
    counts: Counter[tuple[bool, str]] = Counter()
    for obj in objects:
        ns = (obj.get("metadata") or {}).get("namespace")
        if ns and ns not in installation.OWN_NAMESPACES:
            counts[(str(obj.get("apiVersion", "")).split("/")[0].endswith("istio.io"), ns)] += 1
    istio = Counter({ns: n for (mesh, ns), n in counts.items() if mesh})
    found = istio or Counter({ns: n for (_, ns), n in counts.items()})
    if not found:
        return "default"
    return min(found, key=lambda ns: (-found[ns], ns))
