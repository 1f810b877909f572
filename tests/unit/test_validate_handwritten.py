"""Correct manifests written by hand, the way Istio documents them, raise no error.

Bookinfo (tests/testdata/handwritten/bookinfo.yaml) carries no sync-wave annotations and a
namespace outside the mesh; before this was fixed, sync-wave-order and namespace-injection
made errors of both under staging and prod.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from charts_py.validate import documents, engine
from charts_py.validate.findings import Severity
from charts_py.validate.rules.catalog import PROFILES, RULES

BOOKINFO = Path(__file__).resolve().parent.parent / "testdata" / "handwritten" / "bookinfo.yaml"


@pytest.mark.parametrize("profile", PROFILES)
def test_bookinfo_has_no_error_under_any_profile(profile: str) -> None:
    report = engine.validate(documents.read(BOOKINFO), profile)
    assert [f.text for f in report.findings if f.severity is Severity.ERROR] == []


def test_bookinfo_is_clean_for_the_rules_istio_also_has() -> None:
    """The rules that mirror Istio's analyzers, and the sync order, find nothing at all."""
    report = engine.validate(documents.read(BOOKINFO), "prod")
    mirrored = {r.id for r in RULES if r.istio} | {"sync-wave-order", "namespace-injection"}
    assert [f.text for f in report.findings if f.rule in mirrored] == []


def test_inverted_waves_still_warn() -> None:
    """What sync-wave-order is for: a DestinationRule syncing after its VirtualService."""
    docs = documents.read(BOOKINFO.parent.parent / "validate/sync-wave-order/inverted-fail.yaml")
    found = [f for f in engine.validate(docs, "prod").findings if f.rule == "sync-wave-order"]
    assert [f.severity for f in found] == [Severity.WARNING]
    assert "after this VirtualService" in found[0].message
