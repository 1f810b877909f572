"""`ingress.api: gateway-api` on the real API server, with Gateway API's CRDs (the channel
production runs) installed as `meshops cluster up` installs them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from charts_py import contract, distdir, kubeapi
from charts_py.config import installation
from charts_py.drift import defaults
from charts_py.errors import ObjectRejected

DIST = Path(__file__).resolve().parents[2] / "dist" / "staging" / "staging-1"
GATEWAY_API = "gateway.networking.k8s.io"


def _gateway_api_objects() -> list[dict[str, Any]]:
    return [
        placed.obj
        for placed in distdir.read(DIST)
        if placed.obj["apiVersion"].startswith(f"{GATEWAY_API}/")
    ]


def test_the_cluster_serves_gateway_api_from_the_production_channel(kube: kubeapi.Cluster) -> None:
    crds = kube.list(kube.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition"))
    channels = {
        crd["metadata"]["name"]: crd["metadata"]["annotations"].get(f"{GATEWAY_API}/channel")
        for crd in crds
        if crd["spec"]["group"] == GATEWAY_API
    }
    assert channels[f"gateways.{GATEWAY_API}"] == installation.GATEWAY_API_CHANNEL
    assert channels[f"httproutes.{GATEWAY_API}"] == installation.GATEWAY_API_CHANNEL


def test_gateway_api_ingress_passes_a_server_side_dry_run(kube: kubeapi.Cluster) -> None:
    """Every Gateway and HTTPRoute of a gateway-api ingress is accepted, and what the server
    adds to it is in drift's table of server defaults (so an adopted object is not drift)."""
    objects = _gateway_api_objects()
    assert sorted(o["kind"] for o in objects) == ["Gateway", "HTTPRoute", "HTTPRoute"]
    for ns in sorted({o["metadata"]["namespace"] for o in objects}):
        kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            field_manager="meshops-tests",
        )
    for obj in objects:
        stored = kube.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
        assert stored["spec"] == defaults.fill(obj)["spec"], obj["metadata"]["name"]


def test_a_listener_typo_is_refused_naming_the_object(kube: kubeapi.Cluster) -> None:
    """The CRD's own validation runs (a sanity check that the dry-run above could fail)."""
    (gateway,) = [o for o in _gateway_api_objects() if o["kind"] == "Gateway"]
    broken = copy.deepcopy(gateway)
    broken["spec"]["listeners"][0]["protocol"] = "HTTPZ"
    broken["spec"]["listeners"][0]["name"] = "HTTPS Listener"
    with pytest.raises(ObjectRejected, match="Gateway"):
        kube.apply(broken, field_manager=contract.FIELD_MANAGER, dry_run=True)
