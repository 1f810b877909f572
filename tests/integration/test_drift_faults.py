"""A throttled, failing or stalled API server: retried at the boundary, then `unknown` and
exit 2, never "clean". The real control plane behind `faultproxy` on 127.0.0.1."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py import kubeapi
from charts_py.cluster import controlplane
from charts_py.errors import ContinuationExpired
from tests.integration import faultproxy
from tests.integration.drift_env import Scenario, diverged

QUICK = kubeapi.RetryPolicy(attempts=3, base=0.05, cap=0.2, read_timeout=3.0)
"""Short waits, but a read timeout a loaded shared machine still meets on healthy requests."""
VS = "/apis/networking.istio.io/v1/"


@pytest.fixture
def proxy(control_plane: controlplane.LocalCluster) -> Iterator[faultproxy.Proxy]:
    with faultproxy.running(control_plane) as running:
        yield running


@pytest.fixture
def via_proxy(
    control_plane: controlplane.LocalCluster, proxy: faultproxy.Proxy, tmp_path: Path
) -> str:
    return str(faultproxy.kubeconfig(control_plane, proxy, tmp_path / "proxy.kubeconfig"))


def test_throttled_list_honours_retry_after_then_succeeds(
    scenario: Scenario, proxy: faultproxy.Proxy, via_proxy: str
) -> None:
    proxy.faults.append(faultproxy.Fault("virtualservices", 429, times=2, retry_after="1"))
    report = scenario.drift(kubeconfig=via_proxy, retry=QUICK)
    assert report.complete and diverged(report) == {}
    seen = proxy.requests_to("/virtualservices")
    assert [s[2] for s in seen[:3]] == [429, 429, 200]
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(seen[:3])]
    assert all(gap >= 0.9 for gap in gaps), gaps  # Retry-After: 1, not the 0.05 s backoff


def test_server_errors_are_retried(
    scenario: Scenario, proxy: faultproxy.Proxy, via_proxy: str
) -> None:
    proxy.faults.append(faultproxy.Fault("destinationrules", 503, times=2))
    report = scenario.drift(kubeconfig=via_proxy, retry=QUICK)
    assert report.complete and report.exit_code() == 0
    assert [s[2] for s in proxy.requests_to("/destinationrules")][:3] == [503, 503, 200]


def test_persistent_failure_makes_that_kind_unknown_and_exit_2(
    scenario: Scenario, proxy: faultproxy.Proxy, via_proxy: str
) -> None:
    proxy.faults.append(faultproxy.Fault("/virtualservices", 503, times=100))
    report = scenario.drift(kubeconfig=via_proxy, retry=QUICK)
    unknown = {r.ref.kind for r in report.results if r.status == "unknown"}
    assert unknown == {"VirtualService"}
    reason = next(r.error for r in report.results if r.status == "unknown") or ""
    assert "HTTP 503" in reason and "after 3 attempts" in reason
    assert not report.complete and report.exit_code() == 2
    # Every other kind was still judged: the run finished.
    assert any(r.ref.kind == "DestinationRule" and r.status == "in-sync" for r in report.results)


def test_stalled_server_times_out_to_unknown(
    scenario: Scenario, proxy: faultproxy.Proxy, via_proxy: str
) -> None:
    proxy.faults.append(faultproxy.Fault("/sidecars", stall=3.5, times=3))
    report = scenario.drift(kubeconfig=via_proxy, retry=QUICK)
    (reason,) = {r.error for r in report.results if r.status == "unknown"}
    assert reason and "no answer in time" in reason
    assert report.exit_code() == 2


def test_expired_continuation_restarts_that_list(
    kube: kubeapi.Cluster,
    namespace: str,
    control_plane: controlplane.LocalCluster,
    proxy: faultproxy.Proxy,
    tmp_path: Path,
) -> None:
    for i in range(5):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}}
        cm["metadata"]["namespace"] = namespace
        kube.apply(cm, field_manager="tests")
    config = faultproxy.kubeconfig(control_plane, proxy, tmp_path / "proxy.kubeconfig")
    cluster = kubeapi.Cluster.connect(str(config), retry=QUICK)
    cluster.page_size = 2
    resource = cluster.resource("v1", "ConfigMap")
    proxy.faults.append(faultproxy.Fault(f"/namespaces/{namespace}/", 410, also="continue="))
    names = sorted(o["metadata"]["name"] for o in cluster.list(resource, namespace=namespace))
    assert names == ["c0", "c1", "c2", "c3", "c4"]  # each once, none lost
    listed = proxy.requests_to(f"/namespaces/{namespace}/")
    first_pages = [s for s in listed if "continue" not in s[1]]
    assert len(first_pages) == 2  # the LIST started again from its first page

    proxy.faults.append(faultproxy.Fault("/configmaps", 410, also="continue=", times=100))
    with pytest.raises(ContinuationExpired, match="each of 3 attempts"):
        cluster.list(resource, namespace=namespace)
