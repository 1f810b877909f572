"""Per-object suppressions, in the object's own annotation:

    meshops.dev/suppress: "<rule-id>[,<rule-id>]: <reason> [(until YYYY-MM-DD)][; ...]"

A suppression must say why (the reason is shown in every report and the audit), and may
only name rules that exist; otherwise it is itself a finding and suppresses nothing. It may
end on a date (UTC, inclusive): after it, the finding is reported again, its message saying
that the suppression expired. Several entries (`;`-separated) give rules their own reasons
and dates. An annotation, not a file beside the manifests, so that a suppression travels
with its object (copied, moved, rendered) and is reviewed in the same diff.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Collection
from dataclasses import dataclass

from charts_py import contract
from charts_py.jsonpointer import pointer
from charts_py.validate.documents import Document
from charts_py.validate.findings import ISTIO_RULE

ANNOTATION = contract.SUPPRESS
PATH = pointer("metadata", "annotations", ANNOTATION)
FORM = '"<rule-id>[,<rule-id>]: <reason> [(until YYYY-MM-DD)][; ...]"'
_UNTIL = re.compile(r"\s*\(until ([^)]*)\)\s*$")


@dataclass(frozen=True)
class Waiver:
    """Rules an object opts out of, why, and until when (None: no end)."""

    rules: frozenset[str]
    reason: str
    until: datetime.date | None = None

    def active(self, today: datetime.date) -> bool:
        """Whether it still silences its rules on `today`."""
        return self.until is None or today <= self.until

    @property
    def shown(self) -> str:
        """The reason, with its end date when it has one."""
        return f"{self.reason} (until {self.until.isoformat()})" if self.until else self.reason


@dataclass(frozen=True)
class Suppression:
    """Everything one object's annotation waives."""

    waivers: tuple[Waiver, ...]

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(r for w in self.waivers for r in w.rules)

    @property
    def reason(self) -> str:
        return "; ".join(w.shown for w in self.waivers)

    def waiver(self, rule: str) -> Waiver | None:
        """The entry that names `rule`, if any."""
        return next((w for w in self.waivers if rule in w.rules), None)


def today() -> datetime.date:
    """The date expiries are judged on (UTC)."""
    return datetime.datetime.now(datetime.UTC).date()


def parse(doc: Document, known: Collection[str]) -> tuple[Suppression | None, str | None]:
    """The object's suppression, or the problem with its annotation (None, None: none)."""
    value = doc.annotations.get(ANNOTATION)
    if value is None:
        return None, None
    waivers = []
    for entry in value.split(";"):
        waiver, problem = _entry(entry, known)
        if waiver is None:
            return None, f"{value!r}: {problem}"
        waivers.append(waiver)
    return Suppression(tuple(waivers)), None


def _entry(entry: str, known: Collection[str]) -> tuple[Waiver | None, str]:
    ids, colon, reason = entry.partition(":")
    rules = frozenset(r.strip() for r in ids.split(",") if r.strip())
    until = None
    dated = _UNTIL.search(reason)
    if dated:
        try:
            until = datetime.date.fromisoformat(dated.group(1).strip())
        except ValueError:
            return None, f"{dated.group(1).strip()!r} is not a date (YYYY-MM-DD); write {FORM}"
        reason = reason[: dated.start()]
    if not colon or not reason.strip() or not rules:
        return None, f"write {FORM} (a reason is required)"
    unknown = sorted(r for r in rules - set(known) if not ISTIO_RULE.match(r))
    if unknown:
        return None, f"unknown rule ids {unknown}"
    return Waiver(rules, reason.strip(), until), ""


def verdict(found: Suppression | None, rule: str, on: datetime.date) -> tuple[str | None, str]:
    """(reason it is silenced, or None; a note for the finding when a suppression of it
    expired): what a report does with a failure of `rule` on an object."""
    waiver = found.waiver(rule) if found is not None else None
    if waiver is None:
        return None, ""
    if waiver.active(on):
        return waiver.shown, ""
    return None, f" (suppression expired on {waiver.until}: {waiver.reason})"
