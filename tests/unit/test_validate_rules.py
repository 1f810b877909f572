"""Every rule has a failing and a passing case under tests/testdata/validate/<rule-id>/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from charts_py.validate import documents, engine, promql
from charts_py.validate.findings import Severity
from charts_py.validate.rules import ESTATE_CHECKS, SCOPE_CHECKS
from charts_py.validate.rules.catalog import BY_ID, PROFILES, RULES
from tests import tools

CASES = Path(__file__).resolve().parent.parent / "testdata" / "validate"


def cases(outcome: str) -> list[Path]:
    return sorted(CASES.glob(f"*/*-{outcome}.yaml"))


def header(path: Path, key: str) -> str | None:
    match = re.search(rf"^# {key}: (\S+)$", path.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def findings_of(path: Path, rule: str) -> list[str]:
    profile = header(path, "profile") or "prod"
    report = engine.validate(documents.read(path), profile)
    return [f.path for f in report.findings if f.rule == rule]


def test_every_rule_has_a_check_and_cases() -> None:
    checked = set(SCOPE_CHECKS) | set(ESTATE_CHECKS) | {engine.INVALID_SUPPRESSION}
    assert checked == set(BY_ID)
    assert len(RULES) == len(BY_ID)
    for rule in RULES:
        assert list((CASES / rule.id).glob("*-fail.yaml")), f"no failing case for {rule.id}"
        assert list((CASES / rule.id).glob("*-pass.yaml")), f"no passing case for {rule.id}"
        assert any(rule.severity(p) for p in PROFILES), f"{rule.id} is off everywhere"


@pytest.mark.parametrize("path", cases("fail"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_failing_case_is_caught(path: Path) -> None:
    rule = path.parent.name
    found = findings_of(path, rule)
    assert found, f"{rule} found nothing in {path.name}"
    expected = header(path, "expect")
    if expected:
        assert expected in found


@pytest.mark.parametrize("path", cases("pass"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_passing_case_is_clean(path: Path) -> None:
    assert findings_of(path, path.parent.name) == []


def test_severity_follows_the_profile() -> None:
    permissive = documents.read(CASES / "mtls-strict" / "permissive-fail.yaml")
    severities = {
        profile: [f.severity for f in engine.validate(permissive, profile).findings]
        for profile in PROFILES
    }
    assert severities == {"dev": [], "staging": [Severity.WARNING], "prod": [Severity.ERROR]}
    fault = documents.read(CASES / "fault-injection" / "fault-fail.yaml")
    by_profile = {
        p: {f.severity for f in engine.validate(fault, p).findings if f.rule == "fault-injection"}
        for p in PROFILES
    }
    assert by_profile == {
        "dev": {Severity.INFO},
        "staging": {Severity.INFO},
        "prod": {Severity.ERROR},
    }


def test_a_suppression_with_a_reason_silences_and_is_counted(tmp_path: Path) -> None:
    secret = (CASES / "no-secrets" / "secret-fail.yaml").read_text()
    waived = secret.replace(
        "metadata: {name: shop-tls, namespace: istio-system}",
        'metadata: {name: shop-tls, namespace: istio-system, annotations: {"meshops.dev/suppress": '
        '"no-secrets: bootstrap certificate, rotated by SEC-42"}}',
    )
    assert waived != secret
    (tmp_path / "waived.yaml").write_text(waived)
    report = engine.validate(documents.read(tmp_path / "waived.yaml"), "prod")
    assert [f.rule for f in report.findings] == []
    assert [(s.finding.rule, s.reason) for s in report.suppressed] == [
        ("no-secrets", "bootstrap certificate, rotated by SEC-42")
    ]


def _waived_secret(tmp_path: Path, annotation: str) -> engine.Report:
    secret = (CASES / "no-secrets" / "secret-fail.yaml").read_text()
    waived = secret.replace(
        "metadata: {name: shop-tls, namespace: istio-system}",
        "metadata: {name: shop-tls, namespace: istio-system, annotations: "
        f'{{"meshops.dev/suppress": "{annotation}"}}}}',
    )
    assert waived != secret
    (tmp_path / "waived.yaml").write_text(waived)
    return engine.validate(documents.read(tmp_path / "waived.yaml"), "prod")


def test_a_suppression_silences_until_its_date(tmp_path: Path) -> None:
    report = _waived_secret(tmp_path, "no-secrets: bootstrap certificate (until 2999-12-31)")
    assert [f.rule for f in report.findings] == []
    assert [s.reason for s in report.suppressed] == ["bootstrap certificate (until 2999-12-31)"]


def test_an_expired_suppression_turns_back_into_the_finding(tmp_path: Path) -> None:
    report = _waived_secret(tmp_path, "no-secrets: bootstrap certificate (until 2020-01-31)")
    [finding] = report.findings
    assert finding.rule == "no-secrets" and finding.severity is Severity.ERROR
    assert "suppression expired on 2020-01-31: bootstrap certificate" in finding.message
    assert report.suppressed == []


def test_entries_give_rules_their_own_reasons_and_dates(tmp_path: Path) -> None:
    report = _waived_secret(
        tmp_path, "alpha-api: not ours (until 2020-01-01); no-secrets: bootstrap certificate"
    )
    assert [f.rule for f in report.findings] == []
    assert [s.reason for s in report.suppressed] == ["bootstrap certificate"]


@pytest.mark.parametrize(
    "annotation",
    ["no-secrets: a reason (until tomorrow)", "no-secrets: (until 2999-01-01)"],
    ids=["not-a-date", "no-reason"],
)
def test_a_malformed_expiry_is_itself_a_finding(tmp_path: Path, annotation: str) -> None:
    report = _waived_secret(tmp_path, annotation)
    assert sorted(f.rule for f in report.findings) == ["no-secrets", "suppression-invalid"]


def test_messages_say_how_to_fix() -> None:
    report = engine.validate(documents.read(CASES / "route-weights" / "sum-fail.yaml"), "prod")
    [finding] = [f for f in report.findings if f.rule == "route-weights"]
    assert "sum to 110" in finding.message
    assert BY_ID["route-weights"].fix in finding.message
    assert finding.line == 9  # the `- route:` line of the failing route


def test_promql_fallback_catches_what_promtool_would() -> None:
    """The syntax check used when promtool is not installed (promtool itself: see the
    failing cases above, which pass with either)."""
    spec = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {"alert": "A", "expr": 'sum(rate(x{a="("}[5m]) > 1'},
                    {"alert": "B", "expr": "histogram_quantil(0.9, x)"},
                    {"alert": "C", "expr": 'sum by (le) (rate(x{a=")"}[5m]))'},
                    {"alert": "D", "expr": "up", "annotations": {"summary": "{{ $value"}},
                ],
            }
        ]
    }
    found = [(at, message.split(" (")[0]) for _, at, message in promql._fallback(0, spec)]
    assert found == [
        ("/spec/groups/0/rules/0/expr", "unclosed '('"),
        ("/spec/groups/0/rules/1/expr", "unknown function 'histogram_quantil'"),
        ("/spec/groups/0/rules/3/annotations/summary", "unbalanced {{ }} in template"),
    ]


def test_validate_never_imports_the_generator() -> None:
    """Data flows one way: render imports validate, never the reverse."""
    import ast

    package = Path(engine.__file__).parent
    for module in package.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(
                    ("charts_py.render", "charts_py.charts", "charts_py.constructs", "cdk8s")
                ), f"{module.name} imports {name}"


def test_promtool_is_the_authority_when_installed() -> None:
    tools.require("promtool")  # skips locally without it, fails under CI=true
    docs = documents.read(CASES / "prometheus-rule-expr" / "unknown-function-fail.yaml")
    [finding] = [f for f in engine.validate(docs, "prod").findings]
    assert finding.path == "/spec/groups/0/rules/0/expr"
    assert 'unknown function with name "histogram_quantil"' in finding.message


def test_docs_rule_table_matches_the_catalog() -> None:
    """Each row: rule, what it checks, what istioctl analyze says (codes), severity per profile."""
    readme = (CASES.parent.parent.parent / "docs" / "validate.md").read_text()
    rows = re.findall(
        r"^\| `([a-z-]+)` \| (.*) \| (.*) \| (\S+) \| (\S+) \| (\S+) \|$", readme, re.MULTILINE
    )
    shown = {
        rule: (title, sorted(re.findall(r"IST\d{4}", istio)), "live cluster only" in istio, *levels)
        for rule, title, istio, *levels in rows
    }
    expected = {
        r.id: (
            r.title,
            sorted(c for c in r.istio.split(",") if c),
            r.istio_live,
            *(s.value if s else "-" for s in (r.dev, r.staging, r.prod)),
        )
        for r in RULES
    }
    assert shown == expected
