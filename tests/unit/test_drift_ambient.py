"""Drift and ambient: what istiod makes from a waypoint is istiod's, not extra; a hand-made
object with our labels still is."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from charts_py.drift import check, fetch
from charts_py.drift.model import Status
from charts_py.drift.policy import Policy
from charts_py.objectref import ObjectRef

WAYPOINT = Path(__file__).resolve().parents[2] / (
    "dist/ambient/ambient-1/mesh-baseline/Gateway.gateway.networking.k8s.io.shop.waypoint.yaml"
)


def waypoint() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(WAYPOINT.read_text())
    return found


def generated(gateway: dict[str, Any], kind: str, api_version: str) -> dict[str, Any]:
    """What istiod's deployment controller creates for a waypoint: the Gateway's labels plus
    its own, owned by the Gateway (its waypoint template)."""
    meta = gateway["metadata"]
    labels = {
        **meta["labels"],
        "gateway.networking.k8s.io/gateway-name": meta["name"],
        "gateway.istio.io/managed": "istio.io-mesh-controller",
    }
    owner = {"apiVersion": gateway["apiVersion"], "kind": "Gateway", "name": meta["name"],
             "uid": "5b1f3c1e-0000-4000-8000-000000000001"}  # fmt: skip
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner],
        },
    }


def verdicts(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> dict[str, Status]:
    state = fetch.Live({ObjectRef.of(o).key: o for o in live})
    results = check.judge_all(
        desired, state, Policy(), env="ambient", cluster_name="ambient-1", server=None
    )
    return {f"{r.ref.kind}/{r.ref.name}": r.status for r in results}


def test_the_waypoints_deployment_service_and_account_are_not_extra() -> None:
    gateway = waypoint()
    made = [
        generated(gateway, "Deployment", "apps/v1"),
        generated(gateway, "Service", "v1"),
        generated(gateway, "ServiceAccount", "v1"),
    ]
    found = verdicts([gateway], [copy.deepcopy(gateway), *made])
    assert found == {"Gateway/waypoint": Status.IN_SYNC}


def test_the_same_objects_without_their_gateway_in_git_are_extra() -> None:
    gateway = waypoint()
    made = generated(gateway, "Deployment", "apps/v1")
    assert verdicts([], [made]) == {"Deployment/waypoint": Status.EXTRA}


def test_an_object_with_our_labels_owned_by_nothing_of_gits_is_extra() -> None:
    gateway = waypoint()
    stray = generated(gateway, "Deployment", "apps/v1")
    stray["metadata"]["name"] = "by-hand"
    del stray["metadata"]["ownerReferences"]
    found = verdicts([gateway], [copy.deepcopy(gateway), stray])
    assert found["Deployment/by-hand"] == Status.EXTRA
