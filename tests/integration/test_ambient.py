"""Every object an ambient namespace renders is accepted by the real API server, with Istio's
and Gateway API's CRDs installed: a server-side apply dry-run, which refuses a field the
schema does not declare (a `retry` on a standard-channel HTTPRoute, a typo) instead of
pruning it."""

from __future__ import annotations

from pathlib import Path

import pytest

from charts_py import contract, distdir, kubeapi
from charts_py.errors import MeshopsError

DIST = Path(__file__).resolve().parents[2] / "dist" / "ambient" / "ambient-1"
GATEWAY_API = "gateway.networking.k8s.io/v1"


def test_every_ambient_object_passes_a_server_side_dry_run(kube: kubeapi.Cluster) -> None:
    placed = list(distdir.read(DIST))
    for ns in sorted({p.obj["metadata"].get("namespace") for p in placed} - {None}):
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        kube.apply(namespace, field_manager="meshops-tests")
    kinds = set()
    for one in placed:
        stored = kube.apply(one.obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
        assert stored["metadata"]["name"] == one.obj["metadata"]["name"]
        gateway_api = one.obj["apiVersion"] == GATEWAY_API
        kinds.add(one.obj["kind"] + ("*" if gateway_api else ""))
    # What ambient brings, proven here: waypoint (Gateway API Gateway), GAMMA routes
    assert {"Gateway*", "HTTPRoute*", "GRPCRoute*", "AuthorizationPolicy", "PodMonitor"} <= kinds


def test_an_unknown_field_of_a_route_is_refused_not_pruned(
    kube: kubeapi.Cluster, namespace: str
) -> None:
    route = next(p.obj for p in distdir.read(DIST) if p.obj["kind"] == "HTTPRoute")
    bad = {**route, "metadata": {**route["metadata"], "namespace": namespace}}
    bad["spec"] = {**route["spec"], "rules": [{**route["spec"]["rules"][0], "retries": {}}]}
    # kube-apiserver v1.34 answers a server-side apply of an undeclared field with a 500
    # that is no Status (its "Unhandled Error"), which the client retries, then reports.
    with pytest.raises(MeshopsError, match="retries: field not declared in schema"):
        kube.apply(bad, field_manager=contract.FIELD_MANAGER, dry_run=True)
