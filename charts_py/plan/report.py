"""The migration plan as JSON (schemaVersion 1) and as text for a person."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from charts_py.plan import ambient
from charts_py.plan.ambient import Move


def to_json(env: str, moves: Sequence[Move]) -> dict[str, Any]:
    """The plan of every namespace of `env`, in the environment's order."""
    return {
        "schemaVersion": ambient.SCHEMA_VERSION,
        "env": env,
        "namespaces": [_namespace(move) for move in moves],
    }


def _namespace(move: Move) -> dict[str, Any]:
    return {
        "namespace": move.namespace,
        "team": move.team,
        "dataplane": move.dataplane,
        "movable": move.movable,
        "cannotMove": [
            {"file": p.file, "line": p.line, "field": p.field, "reason": p.reason}
            for p in move.blockers
        ],
        "lost": ambient.lost(move),
        "waypoint": {name: list(reasons) for name, reasons in sorted(move.waypoint.items())},
        "objects": {
            "removed": [r.to_json() for r in move.removed],
            "added": [r.to_json() for r in move.added],
            "changed": [r.to_json() for r in move.changed],
        },
        "replaced": ambient.replaced(move),
        "steps": ambient.steps(move),
    }


def json_text(env: str, moves: Sequence[Move]) -> str:
    return json.dumps(to_json(env, moves), indent=2, sort_keys=True) + "\n"


def text(env: str, moves: Sequence[Move]) -> str:
    """Per namespace: where it is, what replaces what, what blocks it, the steps."""
    lines = [f"plan-ambient {env}:"]
    for move in moves:
        lines += _namespace_text(move)
    return "\n".join(lines) + "\n"


def _namespace_text(move: Move) -> list[str]:
    owner = f"team {move.team}" if move.team else "the platform"
    head = f"namespace {move.namespace} ({owner}): {move.dataplane}"
    if move.dataplane == "ambient":
        return [f"{head}, nothing to move"]
    if not move.edits:
        return [f"{head}: no block to set `dataplane` in (describe it in its team's file first)"]
    verdict = "can move" if move.movable else f"cannot move yet ({len(move.blockers)} blockers)"
    out = [f"{head}, {verdict}"]
    for name, reasons in sorted(move.waypoint.items()):
        out.append(f"  waypoint for {name}: {'; '.join(reasons)}")
    for group in ambient.replaced(move):
        who = group["service"] or "namespace"
        gone = ", ".join(_ref(r) for r in group["removed"]) or "nothing"
        came = ", ".join(_ref(r) for r in group["added"]) or "nothing"
        out.append(f"  {who}: {gone} -> {came}")
        if group["changed"]:
            out.append(f"    changed: {', '.join(_ref(r) for r in group['changed'])}")
    for lost in ambient.lost(move):
        out.append(f"  lost with {_ref(lost)}: {lost['why']}")
    for step in ambient.steps(move):
        out.append(f"  {step['step']}. {_step(step)}")
    return out


def _ref(ref: dict[str, str]) -> str:
    where = f"{ref['namespace']}/" if ref["namespace"] else ""
    return f"{ref['kind']} {where}{ref['name']}"


def _step(step: dict[str, Any]) -> str:
    if step["do"] == "fix":
        return f"fix {step['file']}:{step['line']}: {step['field']}: {step['why']}"
    if step["do"] == "edit":
        edits = "; ".join(
            f"{e['file']}{':' + str(e['line']) if e['line'] else ''}: {e['field']}: {e['value']}"
            for e in step["edits"]
        )
        return f"edit {edits} ({step['why']})"
    return f"run `{step['command']}` ({step['why']})"


RENDERERS = {"text": text, "json": json_text}
"""By `format_names.PLAN_AMBIENT`."""
