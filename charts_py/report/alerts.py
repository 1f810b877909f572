"""What a night's messages say: one alert per new problem, never again while it persists.

A finding alerts the night it is new or regressed, and the first night after its waiver
expired. A run that could not complete alerts every night (silence would read as "nothing
new"). Persisting and waived findings are for the weekly digest only. The webhook and
Slack messages (notify.py) carry exactly these; nothing is sent on a complete night with
nothing to alert (docs/drift.md, "Findings across nights").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from charts_py import contract
from charts_py.drift.model import Finding, Report, Severity, State
from charts_py.report import formats

WAIVER_EXPIRED = "waiver-expired"


@dataclass(frozen=True)
class Alert:
    """One finding in a message: why it is there (`state`), where, how bad, since when."""

    id: str
    state: str
    kind: str
    namespace: str
    name: str
    path: str
    severity: str | None
    first_seen: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "path": self.path,
            "severity": self.severity,
        }

    def line(self) -> str:
        """`critical new PeerAuthentication istio-system/default /spec/mtls/mode`."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        path = f" {self.path}" if self.path else " (whole object)"
        return f"{self.severity or 'unrated'} {self.state} {self.kind} {where}{path}"


def reason(finding: Finding) -> str | None:
    """Why this finding alerts tonight, or None: the first night after its waiver expired,
    or the night it is new or regressed."""
    if finding.waiver_expired and finding.previously == State.WAIVED:
        return WAIVER_EXPIRED
    if finding.state in (State.NEW, State.REGRESSED):
        return str(finding.state)
    return None


def alerts(report: Report) -> list[Alert]:
    """Tonight's alerts, worst severity first, then by object and path."""
    return _selected(report, reason)


def persisting(report: Report) -> list[Alert]:
    """What the weekly digest lists: the findings that persist, waived ones included."""
    kept = (State.PERSISTING, State.WAIVED)
    return _selected(report, lambda f: str(f.state) if f.state in kept else None)


def incomplete(report: Report) -> str | None:
    """Why the run could not complete, in one line, or None when it did."""
    if report.complete:
        return None
    return "; ".join(report.errors) if report.errors else formats.verdict(report)


def digest_due(report: Report, weekday: str | None) -> bool:
    """Whether tonight's run started on the digest's weekday (UTC)."""
    if weekday is None:
        return False
    try:
        started = datetime.fromisoformat(report.started_at)
    except ValueError:
        return False
    return contract.WEEKDAYS[started.weekday()] == weekday


def worth_sending(report: Report, digest: bool) -> bool:
    """Something to say: an alert, an incomplete run, or the digest."""
    return digest or not report.complete or bool(alerts(report))


def headline(report: Report, digest: bool) -> str:
    """The message's point in words: `2 new, 1 waiver expired`, the incomplete run's reason,
    the digest; "" when there is nothing to say."""
    counts: dict[str, int] = {}
    for alert in alerts(report):
        counts[alert.state] = counts.get(alert.state, 0) + 1
    words = [f"{n} {state.replace('-', ' ')}" for state, n in counts.items()]
    if not report.complete:
        words.insert(0, f"run incomplete ({incomplete(report)})")
    if digest:
        words.append(f"weekly digest: {len(persisting(report))} persisting")
    return ", ".join(words)


def _selected(report: Report, why: Callable[[Finding], str | None]) -> list[Alert]:
    found = []
    for result in sorted(report.results, key=formats.sort_key):
        ref = result.ref
        for path, finding, severity in result.findings():
            state = why(finding) if finding is not None else None
            if finding is None or state is None:
                continue
            rated = str(severity) if severity else None
            alert = Alert(
                finding.id,
                state,
                ref.kind,
                ref.namespace,
                ref.name,
                path,
                rated,
                finding.first_seen,
            )
            found.append((_rank(severity), alert))
    return [alert for _, alert in sorted(found, key=lambda pair: pair[0])]


def _rank(severity: Severity | None) -> int:
    return severity.rank if severity else len(Severity)
