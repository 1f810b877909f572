"""A drift Report, rendered: JSON (the contract), Markdown (the nightly report people read),
JUnit XML (for CI dashboards) and a rich terminal table.

Pure functions of a Report: no I/O except printing to the console given to `text`. Values are
already masked by the pipeline; here they are only shortened for reading.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from charts_py import provenance
from charts_py.drift.model import (
    Change,
    Difference,
    Finding,
    Report,
    Result,
    Severity,
    State,
    Status,
)

VALUE_WIDTH = 80  # longer values are cut with an ellipsis: the snapshot keeps the full object
ABSENT = "(absent)"
DIVERGENT = (Status.MODIFIED, Status.MISSING, Status.EXTRA)
STYLE: dict[Severity | None, str] = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    None: "default",
}
STATUS_NOTE = {
    Status.MISSING: "In git, missing from the cluster.",
    Status.EXTRA: "In the cluster with our labels, not in git.",
}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def json_text(report: Report) -> str:
    """The report JSON of the contract (`--format json`), ending with a newline."""
    return json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"


def verdict(report: Report) -> str:
    """One line: in sync, drift found, or INCOMPLETE (never a clean verdict if anything failed)."""
    counts = report.summary()
    total, divergent = counts["objects"], sum(counts[str(s)] for s in DIVERGENT)
    if not report.complete:
        what = [f"{counts['unknown']} of {_n(total, 'object')}"] if counts["unknown"] else []
        what += [f"{_n(len(report.errors), 'run error')}"] if report.errors else []
        found = f"; drift found in {_n(divergent, 'object')}" if divergent else ""
        return f"INCOMPLETE: could not check {' and '.join(what)}{found}"
    if divergent:
        return f"Drift found: {divergent} of {_n(total, 'object')} differ from git"
    return f"In sync: all {_n(total, 'object')} match git"


def confirmation_line(report: Report) -> str:
    """Per run: how many verdicts a dry-run confirmed and why the rest stand locally."""
    counts = report.confirmations()
    reasons = ", ".join(f"{n} {why}" for why, n in counts["localReasons"].items())
    local = f"{counts['local']} local" + (f" ({reasons})" if reasons else "")
    return f"confirmed by server-dry-run: {counts['server-dry-run']}; {local}"


def confirmed(result: Result) -> str:
    """Per object: `server-dry-run`, `local (forbidden)`, ... or `-` (nothing compared)."""
    return str(result.confirmed_by) if result.confirmed_by else "-"


def value(diff: Difference, side: str) -> str:
    """`desired` or `live` of a difference as compact JSON, cut to VALUE_WIDTH characters."""
    if absent(diff, side):
        return ABSENT
    raw: Any = getattr(diff, side)
    text = json.dumps(raw, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def absent(diff: Difference, side: str) -> bool:
    """True when `side` has no value at the path (added in live, or removed from live)."""
    return (side == "desired" and diff.change == Change.ADDED) or (
        side == "live" and diff.change == Change.REMOVED
    )


def difference_line(diff: Difference) -> str:
    """`/path: changed "a" → "b" (manager, operation, time) [source: ...]`, for plain text."""
    who = ", ".join(x for x in (diff.manager, diff.operation, diff.time) if x)
    line = f"{diff.path}: {diff.change} {value(diff, 'desired')} → {value(diff, 'live')}"
    line = f"{line} ({who})" if who else line
    line = f"{line} [source: {source(diff)}]" if diff.source else line
    return f"{line} [{life(diff.finding)}]" if diff.finding else line


def life(finding: Finding | None) -> str:
    """`new since 2026-12-01T03:17:00Z`, `persisting since ... (3 runs)`, `waived until
    2026-12-15 (owner: reason)`, `... waiver expired 2026-12-15`; `-` before history."""
    if finding is None:
        return "-"
    runs = f" ({finding.runs} runs)" if finding.runs > 1 else ""
    said = f"{finding.state} since {finding.first_seen}{runs}"
    if finding.waiver is not None and finding.state == State.WAIVED:
        waiver = finding.waiver
        said += f", waived until {waiver.expires} ({waiver.owner}: {waiver.reason})"
    elif finding.waiver is not None:
        said += f", waiver expired {finding.waiver.expires}"
    return said


def propose_command(report: Report, finding: Finding, mode: str) -> str:
    """The `meshops propose` command that addresses one finding (`mode`: adopt or revert),
    reading the JSON report saved beside this one (the snapshot keeps `report.json`)."""
    return (
        f"meshops propose --env {report.env} --cluster {report.cluster} "
        f"--from-report report.json --finding {finding.id} --{mode}"
    )


def findings_line(report: Report) -> str:
    """`Findings: 1 new, 2 persisting, 0 regressed, 0 waived, 1 resolved`."""
    counts = report.finding_counts()
    return "Findings: " + ", ".join(f"{n} {state}" for state, n in counts.items())


def source(diff: Difference) -> str:
    """Where git's value comes from, in one line (`environments/prod.yaml:52 services[6].timeout`),
    or `-` when it was not looked up."""
    return provenance.describe(diff.source) if diff.source else "-"


# --- Markdown -----------------------------------------------------------------------------


def markdown(report: Report) -> str:
    """The nightly report: verdict, source, summary, then each divergent object by severity."""
    lines = [f"# Drift report: {report.env} / {report.cluster}", "", f"**{verdict(report)}**", ""]
    lines += _md_source(report) + _md_summary(report) + _md_errors(report)
    for severity, results in by_severity(report):
        lines += [f"## {str(severity).capitalize() if severity else 'Unrated'}", ""]
        for result in results:
            lines += _md_object(report, result)
    lines += _md_unknown(report) + _md_resolved(report)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_source(report: Report) -> list[str]:
    git = report.git
    window = f"{report.started_at} → {report.finished_at}"
    seconds = duration(report)
    took = f" ({seconds:.0f}s)" if seconds is not None else ""
    return [
        f"- Git: {_code(git.ref)} at {_code(git.commit[:12])}, path {_code(git.path)}",
        f"- Checked: {window}{took}",
        f"- Verdicts {confirmation_line(report)}",
        *([f"- {findings_line(report)}"] if report.resolved is not None else []),
        *([f"- Proposal: {report.proposal}"] if report.proposal else []),
        "",
    ]


def _md_summary(report: Report) -> list[str]:
    counts = report.summary()
    rows = [f"| {status} | {counts[str(status)]} |" for status in Status]
    return [
        "## Summary",
        "",
        "| Status | Objects |",
        "|---|---:|",
        *rows,
        f"| **total** | **{counts['objects']}** |",
        "",
        f"Differences ignored by rules: {counts['ignored']}",
        "",
    ]


def _md_errors(report: Report) -> list[str]:
    notes = ["## Notes", "", *(f"- {_cell(n)}" for n in report.notes), ""] if report.notes else []
    if not report.errors:
        return notes
    return ["## Run errors", "", *(f"- {_cell(e)}" for e in report.errors), "", *notes]


def _md_object(report: Report, result: Result) -> list[str]:
    lines = [
        f"### {str(result.status).capitalize()}: {_code(result.ref.kind)} {object_name(result)}",
        "",
    ]
    if result.status in STATUS_NOTE:
        lines += [STATUS_NOTE[result.status], ""]
    if result.confirmed_by:
        lines += [f"Confirmed by: {result.confirmed_by}", ""]
    if result.finding:
        lines += [f"Finding: {_cell(life(result.finding))}", ""]
    if result.differences:
        lines += [
            "| Path | Change | Desired | Live | Manager | Operation | Time | Source | Finding |",
            "|---|---|---|---|---|---|---|---|---|",
            *(_md_row(d) for d in result.differences),
            "",
        ]
    lines += _md_commands(report, result)
    if result.ignored:
        lines += [f"_{_n(result.ignored, 'difference')} ignored by rules._", ""]
    return lines


def _md_commands(report: Report, result: Result) -> list[str]:
    """Per finding, the propose commands that adopt live's value or revert to git's."""
    items = []
    for path, finding, _ in result.findings():
        if finding is None:
            continue
        where = _code(path) if path else "the object"
        adopt, revert = (propose_command(report, finding, m) for m in ("adopt", "revert"))
        items.append(f"- {where} ({finding.id}): {_code(adopt)} or {_code(revert)}")
    return ["To address:", "", *items, ""] if items else []


def _md_row(diff: Difference) -> str:
    cells = [
        _code(diff.path),
        str(diff.change),
        _md_value(value(diff, "desired")),
        _md_value(value(diff, "live")),
        diff.manager or "",
        diff.operation or "",
        diff.time or "",
        source(diff),
        life(diff.finding),
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _md_unknown(report: Report) -> list[str]:
    unknown = sorted((r for r in report.results if r.status == Status.UNKNOWN), key=sort_key)
    if not unknown:
        return []
    items = [
        f"- {_code(r.ref.kind)} {object_name(r)}: {_cell(r.error or 'no reason given')}"
        for r in unknown
    ]
    return ["## Could not check", "", *items, ""]


def _md_resolved(report: Report) -> list[str]:
    if not report.resolved:
        return []
    items = [
        f"- {_code(r.kind)} {r.namespace + '/' if r.namespace else ''}{r.name} "
        f"{_code(r.path) if r.path else '(whole object)'}, first seen {r.first_seen}"
        for r in report.resolved
    ]
    return [f"## Resolved since the last run ({len(items)})", "", *items, ""]


def _md_value(text: str) -> str:
    return text if text == ABSENT else _code(text)  # JSON values are never bare words


def _code(text: str) -> str:
    """A Markdown code span that survives backticks in `text`."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _cell(text: str) -> str:
    """`text` safe inside a Markdown table cell or list item: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


# --- JUnit --------------------------------------------------------------------------------


def junit(report: Report) -> str:
    """JUnit XML: one testcase per object; drift fails it, could-not-check errors it."""
    results = sorted(report.results, key=sort_key)
    failures = sum(1 for r in results if r.status in DIVERGENT)
    errors = sum(1 for r in results if r.status == Status.UNKNOWN) + bool(report.errors)
    attrib = {
        "name": f"meshops drift {report.env}/{report.cluster}",
        "tests": str(len(results) + bool(report.errors)),
        "failures": str(failures),
        "errors": str(errors),
    }
    suites = ET.Element("testsuites", attrib)
    suite = ET.SubElement(suites, "testsuite", {**attrib, "skipped": "0"})
    suite.set("timestamp", report.started_at)
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="confirmedBy", value=confirmation_line(report))
    for note in report.notes:
        ET.SubElement(properties, "property", name="note", value=_xml(note))
    seconds = duration(report)
    if seconds is not None:
        suite.set("time", f"{seconds:.3f}")
    for result in results:
        _junit_case(suite, report, result)
    if report.errors:
        case = _case(suite, f"{report.env}.{report.cluster}", "run")
        _problem(case, "error", f"{_n(len(report.errors), 'run error')}", "run", report.errors)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_case(suite: ET.Element, report: Report, result: Result) -> None:
    ref = result.ref
    case = _case(suite, f"{report.env}.{report.cluster}.{ref.kind}", object_name(result))
    if result.confirmed_by:
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="confirmedBy", value=str(result.confirmed_by))
    if result.status == Status.UNKNOWN:
        _problem(case, "error", result.error or "could not check", str(result.status), ())
    elif result.status in DIVERGENT:
        severity = f" ({result.severity})" if result.severity else ""
        note = STATUS_NOTE.get(result.status)
        count = _n(len(result.differences), "difference")
        message = f"{result.status}{severity}: {count if result.differences or not note else note}"
        details = [difference_line(d) for d in result.differences] + ([note] if note else [])
        details += [f"finding: {life(result.finding)}"] if result.finding else []
        _problem(case, "failure", message, str(result.status), details)


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=_xml(classname), name=_xml(name))


def _problem(
    case: ET.Element, tag: str, message: str, kind: str, lines: tuple[str, ...] | list[str]
) -> None:
    element = ET.SubElement(case, tag, message=_xml(message), type=kind)
    element.text = _xml("\n".join(lines or [message]))


def _xml(text: str) -> str:
    """`text` without the control characters XML 1.0 cannot carry (ElementTree writes them)."""
    return _XML_INVALID.sub("\ufffd", text)


# --- terminal -----------------------------------------------------------------------------


def text(report: Report, console: Console, *, details: bool) -> None:
    """A table of the objects that are not in sync, their differences if asked, a summary."""
    shown = [r for _, group in by_severity(report) for r in group]
    shown += sorted((r for r in report.results if r.status == Status.UNKNOWN), key=sort_key)
    if shown:
        console.print(_table(shown))
    if details:
        for result in shown:
            _print_details(console, result)
    style = "bold magenta" if not report.complete else "bold red" if report.drifted else "green"
    for error in report.errors:
        console.print(Text(f"run error: {error}", style="magenta"))
    for note in report.notes:
        console.print(Text(f"note: {note}"))
    console.print(Text(f"Verdicts {confirmation_line(report)}"))
    if report.resolved is not None:
        console.print(Text(findings_line(report)))
    if report.proposal:
        console.print(Text(f"Proposal: {report.proposal}"))
    console.print(Text(_summary_line(report), style=style))


def _table(results: list[Result]) -> Table:
    table = Table(title=None, show_lines=False)
    columns = ("Kind", "Object", "Status", "Severity", "Differences", "Manager", "Confirmed")
    for column in (*columns, "Since"):
        table.add_column(column, justify="right" if column == "Differences" else "left")
    for r in results:
        cells = [r.ref.kind, object_name(r), str(r.status), str(r.severity or "-")]
        cells += [str(len(r.differences)), top_manager(r) or "-", confirmed(r), _since(r)]
        style = "magenta" if r.status == Status.UNKNOWN else STYLE[r.severity]
        table.add_row(*(Text(c) for c in cells), style=style)  # Text: no markup in names
    return table


def _since(result: Result) -> str:
    """The object's oldest finding: `persisting since 2026-12-01T03:17:00Z`; `-` without."""
    found = [f for _, f, _ in result.findings() if f is not None]
    if not found:
        return "-"
    oldest = min(found, key=lambda f: f.first_seen)
    return f"{oldest.state} since {oldest.first_seen}"


def _print_details(console: Console, result: Result) -> None:
    style = "magenta" if result.status == Status.UNKNOWN else STYLE[result.severity]
    console.print(Text(f"{result.ref} ({result.status})", style=f"bold {style}"))
    lines = [difference_line(d) for d in result.differences]
    lines += [STATUS_NOTE[result.status]] if result.status in STATUS_NOTE else []
    lines += [f"finding: {life(result.finding)}"] if result.finding else []
    lines += [f"error: {result.error}"] if result.error else []
    lines += [f"confirmed by: {result.confirmed_by}"] if result.confirmed_by else []
    for line in lines:
        console.print(Text(f"  {line}"))


def _summary_line(report: Report) -> str:
    counts = report.summary()
    parts = ", ".join(f"{counts[str(s)]} {s}" for s in Status)
    return (
        f"{report.env}/{report.cluster}: {verdict(report)} ({parts}; "
        f"{_n(counts['ignored'], 'difference')} ignored)"
    )


def top_manager(result: Result) -> str | None:
    """The field manager behind most of the object's differences (first seen on a tie)."""
    managers = Counter(d.manager for d in result.differences if d.manager)
    return managers.most_common(1)[0][0] if managers else None


# --- shared -------------------------------------------------------------------------------


def by_severity(report: Report) -> Iterator[tuple[Severity | None, list[Result]]]:
    """Divergent results grouped by severity, critical first, unrated last; sorted by ref."""
    for severity in (*Severity, None):
        group = [r for r in report.results if r.status in DIVERGENT and r.severity == severity]
        if group:
            yield severity, sorted(group, key=sort_key)


def duration(report: Report) -> float | None:
    """Seconds between start and finish, when both are ISO 8601 timestamps with a zone."""
    try:
        start = datetime.fromisoformat(report.started_at)
        finish = datetime.fromisoformat(report.finished_at)
        return (finish - start).total_seconds()
    except (ValueError, TypeError):  # naive/offset-aware mix or free text: show no duration
        return None


def sort_key(result: Result) -> tuple[str, str, str, str]:
    """Reports list objects by kind, namespace, name: stable across runs."""
    return result.ref.kind, result.ref.namespace, result.ref.name, result.ref.api_version


def object_name(result: Result) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects."""
    ref = result.ref
    return f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
