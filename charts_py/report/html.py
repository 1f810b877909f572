"""A drift Report as one self-contained HTML page (`--format html`), for mail and CI artifacts.

One file with inline CSS and no scripts, fonts, images or links to anything: it is opened from
mail clients, artifact stores and `file://`, where external assets are blocked or gone. Every
value from the report goes through `html.escape`: object names, paths and values come from the
cluster, which anyone with write access there can fill with markup. Secret values arrive masked.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from charts_py.drift.model import Difference, Report, Result, Severity, Status
from charts_py.report import formats

VALUE_LIMIT = 2000  # characters of one pretty-printed value; the snapshot keeps the whole object
COLOURS: dict[Severity | None, str] = {
    Severity.CRITICAL: "#b3261e",
    Severity.HIGH: "#d9480f",
    Severity.MEDIUM: "#b07d00",
    Severity.LOW: "#1c6e8c",
    None: "#6b6b6b",
}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
 margin:0 auto;padding:24px;max-width:1400px;background:#fafafa}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:18px 0 6px;word-break:break-all}
.banner{padding:12px 16px;border-radius:6px;font-weight:600;font-size:16px;color:#fff}
.banner.in-sync{background:#2b8a3e}.banner.drift{background:#b3261e}
.banner.incomplete{background:#7b2cbf}
dl.source{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:14px 0}
dl.source dt{color:#555}dl.source dd{margin:0}
table{border-collapse:collapse;background:#fff;margin:4px 0 8px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}
table.summary td.count{text-align:right;font-variant-numeric:tabular-nums}
table.diff{width:100%;table-layout:fixed}
table.diff col.path{width:18%}table.diff col.value{width:22%}table.diff col.who{width:12%}
ul.commands{font-size:12px;margin:2px 0 8px}
pre{margin:0;white-space:pre-wrap;word-break:break-all;font:12px/1.4 ui-monospace,Menlo,
 Consolas,monospace}
code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
td.desired{background:#eef6ee}td.live{background:#fbeeee}.absent{color:#888;font-style:italic}
section.severity{border-left:6px solid var(--c);padding-left:14px;margin-top:24px}
section.severity>h2{color:var(--c)}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;color:#fff;
 background:var(--c);margin-right:6px;vertical-align:1px}
.who{font-size:12px;color:#444}.note{color:#444;margin:2px 0 6px}
.errors li,.unknown li{margin:3px 0}.unknown .reason{color:#7b2cbf}
details{margin-top:24px}summary{cursor:pointer;font-weight:600}
footer{margin-top:32px;color:#777;font-size:12px}
"""


def page(report: Report) -> str:
    """The whole page: verdict, source, summary, divergent objects by severity, the rest."""
    title = f"Drift report: {report.env} / {report.cluster}"
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<div class="banner {_banner_class(report)}">{_e(formats.verdict(report))}</div>',
        _source(report),
        _summary(report),
        _run_errors(report),
        *(_severity_section(report, sev, results) for sev, results in formats.by_severity(report)),
        _unknown(report),
        _resolved(report),
        _in_sync(report),
        "<footer>meshops drift, report schema 1</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(part for part in body if part)
        + "\n</body>\n</html>\n"
    )


def _banner_class(report: Report) -> str:
    """Incomplete wins over drift: an unchecked object may hide more drift."""
    if not report.complete:
        return "incomplete"
    return "drift" if report.drifted else "in-sync"


def _source(report: Report) -> str:
    git, seconds = report.git, formats.duration(report)
    took = f" ({seconds:.0f}s)" if seconds is not None else ""
    rows = [
        ("Git ref", f"<code>{_e(git.ref)}</code>"),
        ("Commit", f"<code>{_e(git.commit)}</code>"),
        ("Path", f"<code>{_e(git.path)}</code>"),
        ("Checked", f"{_e(report.started_at)} → {_e(report.finished_at)}{_e(took)}"),
        ("Verdicts", _e(formats.confirmation_line(report))),
    ]
    if report.resolved is not None:
        rows.append(("Findings", _e(formats.findings_line(report).removeprefix("Findings: "))))
    if report.proposal:
        rows.append(("Proposal", _e(str(report.proposal))))
    items = "".join(f"<dt>{name}</dt><dd>{text}</dd>" for name, text in rows)
    return f'<dl class="source">{items}</dl>'


def _summary(report: Report) -> str:
    counts = report.summary()
    rows = [(str(status), counts[str(status)]) for status in Status]
    rows += [("total", counts["objects"]), ("differences ignored by rules", counts["ignored"])]
    cells = "".join(f'<tr><td>{_e(k)}</td><td class="count">{v}</td></tr>' for k, v in rows)
    return (
        '<h2>Summary</h2>\n<table class="summary"><thead><tr><th>Status</th><th>Objects</th>'
        f"</tr></thead><tbody>{cells}</tbody></table>"
    )


def _run_errors(report: Report) -> str:
    notes = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    notes = f'<h2>Notes</h2>\n<ul class="notes">{notes}</ul>' if notes else ""
    if not report.errors:
        return notes
    items = "".join(f"<li>{_e(error)}</li>" for error in report.errors)
    return f'<h2>Run errors</h2>\n<ul class="errors">{items}</ul>{notes}'


def _severity_section(report: Report, severity: Severity | None, results: list[Result]) -> str:
    label = str(severity).capitalize() if severity else "Unrated"
    objects = "\n".join(_object(report, result) for result in results)
    return (
        f'<section class="severity" style="--c:{COLOURS[severity]}">'
        f"<h2>{_e(label)} ({len(results)})</h2>\n{objects}\n</section>"
    )


def _object(report: Report, result: Result) -> str:
    parts = [
        f'<h3><span class="badge">{_e(str(result.status))}</span>'
        f"<code>{_e(result.ref.kind)}</code> {_e(formats.object_name(result))}"
        f' <span class="who">{_e(result.ref.api_version)}</span></h3>'
    ]
    if result.status in formats.STATUS_NOTE:
        parts.append(f'<p class="note">{_e(formats.STATUS_NOTE[result.status])}</p>')
    if result.confirmed_by:
        parts.append(f'<p class="note">Confirmed by: {_e(str(result.confirmed_by))}</p>')
    if result.finding:
        parts.append(f'<p class="note">Finding: {_e(formats.life(result.finding))}</p>')
    if result.differences:
        parts.append(_differences(result.differences))
    parts.append(_commands(report, result))
    if result.ignored:
        ignored = f"{result.ignored} difference{'' if result.ignored == 1 else 's'}"
        parts.append(f'<p class="note">{ignored} ignored by rules.</p>')
    return f"<article>{''.join(parts)}</article>"


def _differences(differences: Iterable[Difference]) -> str:
    """Desired and live side by side, one row per path, with who last wrote it and where
    git's value comes from."""
    head = (
        '<table class="diff"><colgroup><col class="path"><col class="value"><col class="value">'
        '<col class="who"><col class="who"><col class="who"></colgroup><thead><tr><th>Path</th>'
        "<th>Desired (git)</th><th>Live</th><th>Manager / operation / time</th>"
        "<th>Source of git's value</th><th>Finding</th></tr></thead><tbody>"
    )
    return head + "".join(_difference_row(d) for d in differences) + "</tbody></table>"


def _difference_row(diff: Difference) -> str:
    who = "<br>".join(_e(x) for x in (diff.manager, diff.operation, diff.time) if x)
    return (
        f"<tr><td><code>{_e(diff.path)}</code><br>"
        f'<span class="who">{_e(str(diff.change))}</span></td>'
        f'<td class="desired">{_value(diff, "desired")}</td>'
        f'<td class="live">{_value(diff, "live")}</td>'
        f'<td class="who">{who or "—"}</td>'
        f'<td class="who">{_e(formats.source(diff))}</td>'
        f'<td class="who">{_e(formats.life(diff.finding))}</td></tr>'
    )


def _commands(report: Report, result: Result) -> str:
    """Per finding, the propose commands that adopt live's value or revert to git's."""
    items = []
    for path, finding, _ in result.findings():
        if finding is None:
            continue
        where = f"<code>{_e(path)}</code>" if path else "the object"
        adopt, revert = (formats.propose_command(report, finding, m) for m in ("adopt", "revert"))
        items.append(f"<li>{where}: <code>{_e(adopt)}</code><br>or <code>{_e(revert)}</code></li>")
    return f'<ul class="commands">{"".join(items)}</ul>' if items else ""


def _value(diff: Difference, side: str) -> str:
    """Pretty JSON (masked Secrets stay masked), cut at VALUE_LIMIT characters."""
    if formats.absent(diff, side):
        return f'<span class="absent">{_e(formats.ABSENT)}</span>'
    raw = getattr(diff, side)
    indent = 2 if isinstance(raw, dict | list) else None
    text = json.dumps(raw, indent=indent, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > VALUE_LIMIT:
        text = text[: VALUE_LIMIT - 1] + "…"
    return f"<pre>{_e(text)}</pre>"


def _unknown(report: Report) -> str:
    unknown = sorted(
        (r for r in report.results if r.status == Status.UNKNOWN), key=formats.sort_key
    )
    if not unknown:
        return ""
    items = "".join(
        f"<li><code>{_e(r.ref.kind)}</code> {_e(formats.object_name(r))}: "
        f'<span class="reason">{_e(r.error or "no reason given")}</span></li>'
        for r in unknown
    )
    return f'<h2>Could not check ({len(unknown)})</h2>\n<ul class="unknown">{items}</ul>'


def _resolved(report: Report) -> str:
    if not report.resolved:
        return ""
    items = "".join(
        f"<li><code>{_e(r.kind)}</code> {_e(r.namespace + '/' if r.namespace else '')}"
        f"{_e(r.name)} <code>{_e(r.path or '(whole object)')}</code>"
        f' <span class="who">first seen {_e(r.first_seen)}</span></li>'
        for r in report.resolved
    )
    return f"<h2>Resolved since the last run ({len(report.resolved)})</h2>\n<ul>{items}</ul>"


def _in_sync(report: Report) -> str:
    """Collapsed: the proof of what was checked, without burying the drift."""
    in_sync = sorted(
        (r for r in report.results if r.status == Status.IN_SYNC), key=formats.sort_key
    )
    items = "".join(
        f"<li><code>{_e(r.ref.kind)}</code> {_e(formats.object_name(r))}"
        f' <span class="who">{_e(formats.confirmed(r))}</span></li>'
        for r in in_sync
    )
    count = f"{len(in_sync)} object{'' if len(in_sync) == 1 else 's'}"
    return f"<details><summary>In sync ({count})</summary><ul>{items}</ul></details>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
