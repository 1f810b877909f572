"""Per-object suppressions: `meshops.dev/suppress: "<rule-id>[,<rule-id>]: <reason>"`.

A suppression must say why (the reason is shown in every report and the audit), and may
only name rules that exist; otherwise it is itself a finding and suppresses nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from charts_py import contract
from charts_py.jsonpointer import pointer
from charts_py.validate.documents import Document
from charts_py.validate.findings import ISTIO_RULE

ANNOTATION = contract.SUPPRESS
PATH = pointer("metadata", "annotations", ANNOTATION)


@dataclass(frozen=True)
class Suppression:
    """The rules an object opts out of, and why."""

    rules: frozenset[str]
    reason: str


def parse(doc: Document, known: Collection[str]) -> tuple[Suppression | None, str | None]:
    """The object's suppression, or the problem with its annotation (None, None: none)."""
    value = doc.annotations.get(ANNOTATION)
    if value is None:
        return None, None
    ids, colon, reason = value.partition(":")
    rules = frozenset(r.strip() for r in ids.split(",") if r.strip())
    if not colon or not reason.strip() or not rules:
        return None, f'{value!r}: write "<rule-id>[,<rule-id>]: <reason>" (a reason is required)'
    unknown = sorted(r for r in rules - set(known) if not ISTIO_RULE.match(r))
    if unknown:
        return None, f"{value!r}: unknown rule ids {unknown}"
    return Suppression(rules, reason.strip()), None
