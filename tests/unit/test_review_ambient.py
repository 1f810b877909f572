"""`meshops review` of ambient changes: a namespace moving to ambient, a GAMMA route's weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.test_review import replace, reviewed
from tests.unit.test_review import shop as shop  # the repository fixture, reused

MOVE = replace(
    "    dataplane: sidecar          # still on sidecars",
    "    dataplane: ambient          # still on sidecars",
)
UNBLOCK = replace(
    "        retries: {attempts: 1, perTryTimeout: 8s}\n"
    "        fault: {percent: 5, abort: 503, header: x-meshops-fault}\n",
    "        retries: {attempts: 1, perTryTimeout: 8s, retryOn: 5xx}\n",
)


def test_a_namespace_moving_to_ambient(shop: Path, capsys: Any) -> None:
    data = reviewed(shop, capsys, "move-legacy", "ambient", lambda t: MOVE(UNBLOCK(t)))
    kinds = {c["kind"] for c in data["changes"]}
    moved = [c for c in data["changes"] if c["kind"] == "revision"]
    assert moved and moved[0]["before"] == "sidecar" and moved[0]["after"] == "ambient"
    assert moved[0]["risk"] == "high"
    added = {
        o["kind"] for c in data["changes"] if c["kind"] == "object-added" for o in c["objects"]
    }
    assert {"HTTPRoute", "Gateway", "PodMonitor"} <= added, kinds
    policies = {
        o["name"] for c in data["changes"] if c["kind"] == "authorization" for o in c["objects"]
    }
    assert {"checkout", "checkout-waypoint"} <= policies  # ztunnel's and the waypoint's


def test_an_httproute_weight_is_a_traffic_shift(shop: Path, capsys: Any) -> None:
    edit = replace("{name: v1, weight: 90}", "{name: v1, weight: 40}")
    edit2 = replace("weight: 10, image", "weight: 60, image")
    data = reviewed(shop, capsys, "shift", "ambient", lambda t: edit2(edit(t)))
    (shift,) = [c for c in data["changes"] if c["kind"] == "traffic-shift"]
    assert shift["before"] == {"reviews-v1": 90, "reviews-v2": 10}
    assert shift["after"] == {"reviews-v1": 40, "reviews-v2": 60}
    assert shift["risk"] == "medium"
    assert shift["objects"][0]["kind"] == "HTTPRoute"
    assert shift["objects"][0]["paths"] == ["/spec/rules/0/backendRefs/0/weight",
                                            "/spec/rules/0/backendRefs/1/weight"]  # fmt: skip
    assert not [c for c in data["changes"] if c["kind"] == "other"]
