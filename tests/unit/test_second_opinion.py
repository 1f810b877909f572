"""How istioctl's messages become findings: levels, objects, and reasons for suppressing.

The messages here are istioctl.Message values as the adapter parses them from istioctl's JSON
(its parsing is exercised against the real binary in tests/integration/test_istioctl.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charts_py.validate import documents, istioctl, report, second_opinion
from charts_py.validate.findings import Severity
from charts_py.validate.scope import Scope, scopes

MANIFESTS = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: [shop.example.com]
      tls: {mode: SIMPLE, credentialName: shop-tls}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ingress
  namespace: shop
  annotations: {meshops.dev/suppress: "istio/IST0132: the host is served by a Gateway of team B"}
spec:
  hosts: [www.example.com]
  gateways: [istio-system/ingress]
  http: [{route: [{destination: {host: frontend}}]}]
"""


def message(code: str, level: str, kind: str, ns: str, name: str, text: str) -> istioctl.Message:
    return istioctl.Message(code, level, kind, ns, name, "m.yaml", 3, text)


@pytest.fixture
def scope(tmp_path: Path) -> Scope:
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    [only] = scopes(documents.read(tmp_path / "m.yaml"))
    return only


def test_levels_map_to_severities_on_the_named_object(scope: Scope) -> None:
    said = [
        message(
            "IST0101",
            "Error",
            "VirtualService",
            "shop",
            "ingress",
            'Referenced host not found: "x"',
        ),
        message(
            "IST0130",
            "Warning",
            "VirtualService",
            "shop",
            "ingress",
            "VirtualService rule 1 not used",
        ),
        message("IST0118", "Info", "Gateway", "istio-system", "ingress", "port name"),
    ]
    judged = second_opinion.judge(scope, said)
    found = [(f.rule, f.severity, f.obj.ref.identity, f.line) for f in judged.findings]
    assert sorted(found) == [
        ("istio/IST0101", Severity.ERROR, "VirtualService/shop/ingress", 3),
        ("istio/IST0118", Severity.INFO, "Gateway/istio-system/ingress", 3),
        ("istio/IST0130", Severity.WARNING, "VirtualService/shop/ingress", 3),
    ]
    assert all(f.obj.file.endswith("m.yaml") for f in judged.findings)


def test_a_suppression_annotation_names_istio_codes_with_a_reason(scope: Scope) -> None:
    said = [
        message("IST0132", "Warning", "VirtualService", "shop", "ingress", "host not in gateway"),
        message("IST0101", "Error", "VirtualService", "shop", "ingress", "Referenced gateway"),
    ]
    judged = second_opinion.judge(scope, said)
    assert [(s.finding.rule, s.reason) for s in judged.suppressed] == [
        ("istio/IST0132", "the host is served by a Gateway of team B")
    ]
    assert [f.rule for f in judged.findings] == ["istio/IST0101"]


def test_absent_istioctl_is_said_in_every_format(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(istioctl.ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = second_opinion.review([])
    assert result.notes == [second_opinion.ABSENT]
    assert "note: istioctl not found" in report.render(result, "text")
    assert json.loads(report.render(result, "json"))["notes"] == [second_opinion.ABSENT]
    sarif = json.loads(report.render(result, "sarif"))["runs"][0]
    assert sarif["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith(
        "istioctl not found"
    )
    assert 'name="note" value="istioctl not found' in report.render(result, "junit")


def test_a_named_istioctl_that_is_not_there_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(istioctl.ENV, "/nonexistent/istioctl")
    with pytest.raises(istioctl.IstioctlError, match="ISTIOCTL=/nonexistent/istioctl"):
        second_opinion.review([])


def test_istio_findings_get_sarif_rule_descriptors(scope: Scope) -> None:
    said = [message("IST0130", "Warning", "VirtualService", "shop", "ingress", "rule 1 not used")]
    sarif = json.loads(report.render(second_opinion.judge(scope, said), "sarif"))["runs"][0]
    [result] = sarif["results"]
    descriptor = sarif["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert descriptor["id"] == result["ruleId"] == "istio/IST0130"
    assert descriptor["helpUri"].endswith("/ist0130/")
