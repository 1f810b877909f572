"""Istio's own analyzer test cases (istio/istio 86c9f01f, pkg/config/analysis/analyzers:
testdata/ and the expectations in analyzers_test.go, committed with their license) replayed
through meshops validate under the dev profile.

For every message Istio expects whose class and object kind a meshops rule checks, meshops
reports a finding of that rule on the same object (both objects of a pair); on the cases
Istio expects clean, meshops raises no error. Where meshops disagrees on purpose, the lists
below say why; a test fails when a disagreement appears or disappears.
"""

from __future__ import annotations

import functools

import pytest

from charts_py.validate.findings import Report
from tests.unit import istio_analyzer_cases as istio
from tests.unit.istio_analyzer_cases import Case, Expected

MISSED_ON_PURPOSE = {
    "virtualServiceGateways: VirtualServiceHostNotFoundInGateway VirtualService httpbin-bogus": (
        "its Gateway does not exist: gateway-exists reports that, once; that the missing "
        "Gateway serves none of the hosts adds nothing"
    ),
}
"""Expected messages (`<case>: <class> <Kind> [ns/]name`) meshops does not report, and why."""

SCHEMA_ON_PARTIAL_OBJECTS = (
    "Istio's test inputs need only be complete enough for the analyzer tested; the API "
    "server rejects these objects, so meshops's schema rule reports them"
)
ERRORS_ON_PURPOSE = {
    "externalControlPlaneValidWebhooks: schema": SCHEMA_ON_PARTIAL_OBJECTS
    + " (admissionregistration.k8s.io/v1 requires webhooks[].sideEffects)",
    "conflicting gateways detect: no port: schema": SCHEMA_ON_PARTIAL_OBJECTS
    + " (a Gateway server requires port)",
    "deploymentMultiServicesInDifferentNamespace: schema": SCHEMA_ON_PARTIAL_OBJECTS
    + " (a Service port's protocol is TCP, UDP or SCTP, not HTTP)",
}
"""Errors meshops raises on cases Istio expects clean (`<case>: <rule>`), and why."""

CASES = istio.cases()
COVERED = list(istio.covered(CASES))
CLEAN = [c for c in CASES if not c.expected]


@functools.cache
def _replayed(key: str) -> Report:
    return istio.replay(next(c for c in CASES if c.key == key))


def test_the_table_is_read_whole() -> None:
    """104 cases and 216 expected messages in the pinned analyzers_test.go; 130 of them
    are of a class some meshops rule names (the rules' `istio` column), 123 on a kind of
    object that rule checks (the others: an AuthorizationPolicy's namespaces, a Gateway's
    credentialName Secret)."""
    assert len(CASES) == 104
    assert sum(len(c.expected) for c in CASES) == 216
    classes = {message for message, _ in istio.COVERED}
    assert sum(1 for c in CASES for e in c.expected if e.message in classes) == 130
    assert len(COVERED) == 123
    assert len(CLEAN) == 26
    for case in CASES:
        for file in case.files:
            assert (istio.ANALYZERS / file).is_file(), file


def _label(case: Case, expected: Expected) -> str:
    return f"{case.name}: {expected.message} {expected.origin}"


@pytest.mark.parametrize(("case", "expected"), COVERED, ids=[_label(c, e) for c, e in COVERED])
def test_meshops_reports_what_istio_expects(case: Case, expected: Expected) -> None:
    found = istio.reports(_replayed(case.key), expected)
    reason = MISSED_ON_PURPOSE.get(_label(case, expected))
    if reason is None:
        assert found, (
            f"meshops reports nothing of {istio.COVERED[(expected.message, expected.kind)]}"
        )
    else:
        assert not found, f"listed as missed on purpose ({reason}), but reported: {found}"


def test_coverage_meets_the_target() -> None:
    reported = [(c, e) for c, e in COVERED if istio.reports(_replayed(c.key), e)]
    assert len(reported) >= 110
    assert len(reported) == len(COVERED) - len(MISSED_ON_PURPOSE)


def test_missed_on_purpose_names_real_messages() -> None:
    labels = {_label(c, e) for c, e in COVERED}
    assert set(MISSED_ON_PURPOSE) <= labels


@pytest.mark.parametrize("case", CLEAN, ids=[c.key for c in CLEAN])
def test_no_error_where_istio_expects_none(case: Case) -> None:
    """Errors only where listed on purpose: one appearing or disappearing fails."""
    rules = {f.rule for f in istio.errors(_replayed(case.key))}
    listed = {k.rpartition(": ")[2] for k in ERRORS_ON_PURPOSE if k.startswith(f"{case.name}: ")}
    assert rules == listed, f"errors of {sorted(rules)}; listed on purpose: {sorted(listed)}"


def test_errors_on_purpose_are_only_schema_errors() -> None:
    """Every mesh rule is clean on the clean cases: the only errors are the API server's."""
    assert {k.rpartition(": ")[2] for k in ERRORS_ON_PURPOSE} == {"schema"}
    names = {c.name for c in CLEAN}
    assert {k.rpartition(": ")[0] for k in ERRORS_ON_PURPOSE} <= names
