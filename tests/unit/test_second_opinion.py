"""How istioctl's messages become findings: levels, objects, and reasons for suppressing.

The messages here are istioctl.Message values as the adapter parses them from istioctl's JSON
(its parsing is exercised against the real binary in tests/integration/test_istioctl.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charts_py.config import out_of_band
from charts_py.config.out_of_band import External
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
    return istioctl.Message(code, level, kind, ns, name, "m.yaml", 3, text, "https://istio.io/x")


@pytest.fixture
def scope(tmp_path: Path) -> Scope:
    (tmp_path / "m.yaml").write_text(MANIFESTS)
    extra = External("Secret", "istio-system", "shop-tls", "cert-manager")
    [only] = scopes(documents.read(tmp_path / "m.yaml"), (*out_of_band.ISTIO_INSTALLATION, extra))
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
    found = [(f.rule, f.severity, f.obj.identity, f.line) for f in judged.findings]
    assert sorted(found) == [
        ("istio/IST0101", Severity.ERROR, "VirtualService/shop/ingress", 3),
        ("istio/IST0118", Severity.INFO, "Gateway/istio-system/ingress", 3),
        ("istio/IST0130", Severity.WARNING, "VirtualService/shop/ingress", 3),
    ]
    assert all(f.obj.file.endswith("m.yaml") for f in judged.findings)


def test_out_of_band_references_and_annotations_suppress_with_reasons(scope: Scope) -> None:
    said = [
        message(
            "IST0101",
            "Error",
            "Gateway",
            "istio-system",
            "ingress",
            'Referenced selector not found: "istio=ingressgateway"',
        ),
        message(
            "IST0101",
            "Error",
            "Gateway",
            "istio-system",
            "ingress",
            'Referenced credentialName not found: "shop-tls"',
        ),
        message("IST0132", "Warning", "VirtualService", "shop", "ingress", "host not in gateway"),
        message(
            "IST0101",
            "Error",
            "Gateway",
            "istio-system",
            "ingress",
            'Referenced selector not found: "istio=partnergateway"',
        ),
    ]
    judged = second_opinion.judge(scope, said)
    reasons = [s.reason for s in judged.suppressed]
    assert reasons == [
        "Deployment istio-system/istio-ingressgateway is out of band: "
        "Istio's gateway Helm chart (istio/gateway)",
        "Secret istio-system/shop-tls is out of band: cert-manager",
        "the host is served by a Gateway of team B",
    ]
    [left] = judged.findings
    assert "partnergateway" in left.message


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


def test_no_pods_offline_is_suppressed_only_where_the_native_rule_could_judge() -> None:
    """Offline istioctl reads no Pods, so it flags every subset (IST0173). Where the files hold
    the host's Service and workloads, subset-selects-pods judged the pod templates; elsewhere
    (ratings: no Service here) istioctl's message stands."""
    case = Path(__file__).resolve().parent.parent / "testdata/validate/subset-selects-pods"
    [only] = scopes(documents.read(case / "selected-pass.yaml"))
    text = "The Subset v1 defined in the DestinationRule does not select any pods."
    said = [
        message("IST0173", "Error", "DestinationRule", "shop", "reviews", text),
        message("IST0173", "Error", "DestinationRule", "shop", "ratings", text),
    ]
    judged = second_opinion.judge(only, said)
    assert [s.finding.obj.name for s in judged.suppressed] == ["reviews"]
    assert "subset-selects-pods" in judged.suppressed[0].reason
    assert [f.obj.name for f in judged.findings] == ["ratings"]
