"""Drift results as Prometheus metrics for node_exporter's textfile collector (`--metrics-file`).

Hand-written text exposition format 0.0.4 (a few gauges do not justify a client library):
https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
Output is sorted, so equal reports give equal files. Every status x severity pair a divergent
object can have is written, zeros included: an alert on `meshops_drift_objects{severity=
"critical"} > 0` then resolves when the drift goes, instead of the series vanishing.
The file is replaced atomically: the collector may read at any moment and must never see half
a file; the temp name does not end in `.prom`, so the collector ignores it.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from charts_py.drift.model import Report, Severity, State, Status
from charts_py.report import formats

NONE = "none"  # severity label of in-sync and unknown objects
HELP = {
    "meshops_drift_objects": "Objects checked by the last drift run, by verdict and severity.",
    "meshops_drift_complete": "1 if the last drift run could check every object, else 0.",
    "meshops_drift_last_run_timestamp_seconds": "When the last drift run finished (Unix time).",
    "meshops_drift_duration_seconds": "How long the last drift run took.",
    "meshops_drift_findings": "Findings of the last drift run by state (resolved: since the run "
    "before).",
    "meshops_drift_oldest_finding_age_seconds": "Age at the last drift run of the oldest "
    "unwaived finding, by severity (0: none).",
}
Labels = tuple[tuple[str, str], ...]


def text(report: Report, seconds: float | None = None) -> str:
    """The exposition text: HELP and TYPE per family, samples sorted by labels.

    `seconds` is the measured run time; without it, the report's timestamps give whole seconds.
    """
    families = {
        "meshops_drift_objects": _objects(report),
        "meshops_drift_complete": [(_base(report), float(report.complete))],
    }
    finished = _timestamp(report.finished_at)
    if finished is not None:
        families["meshops_drift_last_run_timestamp_seconds"] = [(_base(report), finished)]
    if report.resolved is not None:  # the findings' history was read (report/history.py)
        families["meshops_drift_findings"] = _findings(report)
        families["meshops_drift_oldest_finding_age_seconds"] = _oldest(report)
    seconds = formats.duration(report) if seconds is None else round(seconds, 3)
    if seconds is not None:
        families["meshops_drift_duration_seconds"] = [(_base(report), seconds)]
    lines: list[str] = []
    for name in sorted(families):
        lines += [f"# HELP {name} {_escape_help(HELP[name])}", f"# TYPE {name} gauge"]
        lines += [f"{name}{_labels(labels)} {_number(v)}" for labels, v in sorted(families[name])]
    return "\n".join(lines) + "\n"


def _objects(report: Report) -> list[tuple[Labels, float]]:
    """Counts per (status, severity), with a zero for every pair that may appear."""
    counts: Counter[tuple[str, str]] = Counter(
        (str(r.status), str(r.severity) if r.severity and r.status in formats.DIVERGENT else NONE)
        for r in report.results
    )
    pairs = {(str(s), str(v)) for s in formats.DIVERGENT for v in Severity}
    pairs |= {(str(Status.IN_SYNC), NONE), (str(Status.UNKNOWN), NONE)}
    return [
        (
            (*_base(report), ("severity", severity), ("status", status)),
            float(counts[status, severity]),
        )
        for status, severity in pairs | set(counts)
    ]


def _findings(report: Report) -> list[tuple[Labels, float]]:
    """Counts per state, zeros included; no finding ids in labels (bounded series)."""
    return [
        ((*_base(report), ("state", state)), float(n))
        for state, n in report.finding_counts().items()
    ]


def _oldest(report: Report) -> list[tuple[Labels, float]]:
    """Per severity, seconds from the oldest unwaived finding's first sighting to the run's
    end (0 when there is none): `MeshopsDriftCriticalPersisting` compares it with
    `drift.criticalFor`."""
    end = _timestamp(report.finished_at)
    oldest = dict.fromkeys((str(s) for s in Severity), 0.0)
    for result in report.results:
        for _, finding, severity in result.findings():
            if finding is None or severity is None or finding.state == State.WAIVED:
                continue
            seen = _timestamp(finding.first_seen)
            if end is not None and seen is not None:
                oldest[str(severity)] = max(oldest[str(severity)], round(end - seen, 3))
    return [((*_base(report), ("severity", s)), age) for s, age in oldest.items()]


def _base(report: Report) -> Labels:
    return (("cluster", report.cluster), ("env", report.env))


def _timestamp(iso: str) -> float | None:
    """Unix seconds of an ISO 8601 time with a zone; None when it has none (unknowable)."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def _labels(labels: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels) + "}"


def _escape_label(value: str) -> str:
    """Label values escape backslash, double quote and line feed (the format's rule)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    """HELP text escapes backslash and line feed only."""
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    """Integral values without a fraction (`3`, not `3.0`); others as Python's repr."""
    return str(int(value)) if value.is_integer() else repr(value)


def write(report: Report, path: Path, seconds: float | None = None) -> None:
    """Replace `path` with the report's metrics atomically (temp file in the folder, rename)."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text(report, seconds))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes 0600; the collector often runs as another user
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
