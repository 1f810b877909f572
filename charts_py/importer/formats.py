"""The import report as a short table for a terminal, and as JSON (the contract)."""

from __future__ import annotations

import json
from pathlib import Path

from charts_py.importer.model import Report, Status, Verdict


def json_report(report: Report) -> str:
    """The report contract (model.py), indented, keys in the contract's order."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def text(report: Report, output: Path) -> str:
    """One line per object (status, via, object, what it became or why not), then what the
    profile would add and the notes."""
    counts = ", ".join(f"{report.count(s)} {s}" for s in Status)
    lines = [f"import {report.env}: {len(report.verdicts)} objects ({counts}) -> {output}"]
    rows = [_row(v) for v in report.verdicts]
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
    if report.findings:
        lines.append("findings (what the profile would change):")
        lines += [f"  {finding}" for finding in report.findings]
    if report.refusals:
        lines.append("meshops synth would stop on (fix the mesh, or the file, first):")
        lines += [f"  {refusal}" for refusal in report.refusals]
    if report.notes:
        lines.append("notes:")
        lines += [f"  {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _row(verdict: Verdict) -> tuple[str, str, str, str]:
    ref = verdict.ref
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    via = str(verdict.via) if verdict.via else "-"
    if verdict.differences:
        first = verdict.differences[0]
        more = f" (+{len(verdict.differences) - 1} more)" if len(verdict.differences) > 1 else ""
        detail = f"{first.path}: {first.why}{more}"
    else:
        detail = verdict.reason or ""
    return str(verdict.status), via, f"{ref.kind} {where}", detail
