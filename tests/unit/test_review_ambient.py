"""`meshops review` of ambient changes: a namespace moving to ambient, GAMMA routes' weights,
timeouts and retries, who may call whom at the waypoint, a waypoint removed or added, and a
team's routes (their file and line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.test_review import REPO, branch, line, only, replace, review, reviewed
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
    assert moved[0]["risk"] == "high" and moved[0]["namespace"] == "legacy"
    assert moved[0]["source"]["field"] == "namespaces[0].dataplane"
    # Its pods change data plane when they restart: whoever calls into legacy.
    assert moved[0]["service"] is None and moved[0]["blastRadius"]["callers"] == ["orders"]
    added = {
        o["kind"] for c in data["changes"] if c["kind"] == "object-added" for o in c["objects"]
    }
    assert {"HTTPRoute", "Gateway", "PodMonitor"} <= added, kinds
    policies = {
        o["name"] for c in data["changes"] if c["kind"] == "authorization" for o in c["objects"]
    }
    assert {"checkout", "checkout-waypoint"} <= policies  # ztunnel's and the waypoint's
    # Who may call checkout is the same (orders), admitted at the waypoint now; its
    # VirtualService gives way to an HTTPRoute of its name: nothing stops, the move is high.
    assert {c["risk"] for c in data["changes"] if c["kind"] == "authorization"} == {"medium"}
    assert data["summary"]["risk"] == "high"


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


def test_a_grpcroute_weight_is_a_traffic_shift(shop: Path, capsys: Any) -> None:
    edit = replace("{name: v1, weight: 80}", "{name: v1, weight: 70}")
    edit2 = replace("weight: 20, image", "weight: 30, image")
    data = reviewed(shop, capsys, "grpc-shift", "ambient", lambda t: edit2(edit(t)))
    shift = only(data, "traffic-shift")
    assert (shift["service"], shift["namespace"], shift["risk"]) == (
        "recommendations",
        "shop",
        "medium",
    )
    assert shift["before"] == {"recommendations-v1": 80, "recommendations-v2": 20}
    assert shift["after"] == {"recommendations-v1": 70, "recommendations-v2": 30}
    assert [(o["kind"], o["name"]) for o in shift["objects"]] == [("GRPCRoute", "recommendations")]
    assert shift["source"] == {
        "file": "environments/ambient.yaml",
        "line": line("ambient", "{name: v1, weight: 80}"),
        "field": "services[3].versions[0].weight",
    }
    # Called by frontend through the waypoint; the waypoint itself is no caller.
    assert shift["blastRadius"] == {"callers": ["frontend"], "ingressHosts": []}


def test_an_httproute_timeout_and_retries(shop: Path, capsys: Any) -> None:
    edit = replace(
        "    timeout: 5s\n    retries: {attempts: 2, perTryTimeout: 1500ms,",
        "    timeout: 4s\n    retries: {attempts: 2, perTryTimeout: 1200ms,",
    )
    data = reviewed(shop, capsys, "gamma-timeout", "ambient", edit)
    timeout, retries = only(data, "timeout"), only(data, "retries")
    assert (timeout["service"], timeout["before"], timeout["after"]) == ("catalog", "5s", "4s")
    assert timeout["risk"] == "high"  # shortened
    assert timeout["objects"][0]["kind"] == "HTTPRoute"
    assert timeout["objects"][0]["paths"] == ["/spec/rules/0/timeouts/request"]
    assert timeout["source"]["field"] == "services[1].timeout"
    assert timeout["source"]["line"] == line("ambient", "timeout: 5s")
    assert timeout["blastRadius"]["callers"] == ["frontend", "recommendations", "search/indexer"]
    assert retries["service"] == "catalog" and retries["risk"] == "medium"
    assert retries["before"]["budget"] == "4.5s" and retries["after"]["budget"] == "3.6s"
    assert retries["objects"][0]["paths"] == ["/spec/rules/0/timeouts/backendRequest"]
    assert not [c for c in data["changes"] if c["kind"] == "other"], data["changes"]


def test_a_caller_added_at_the_waypoint_is_authorization(shop: Path, capsys: Any) -> None:
    """The waypoint's policy (targetRefs the Service) says who may call; ztunnel's admits the
    waypoint, which is no caller."""
    edit = replace(
        "calls: [catalog, cart, reviews, recommendations]",
        "calls: [catalog, cart, reviews, recommendations, payment]",
    )
    data = reviewed(shop, capsys, "waypoint-authz", "ambient", edit)
    change = only(data, "authorization")
    assert (change["service"], change["namespace"], change["risk"]) == (
        "payment",
        "shop",
        "critical",
    )
    assert change["before"]["callers"] == ["legacy/checkout"]
    assert change["after"]["callers"] == ["frontend", "legacy/checkout"]
    assert [o["name"] for o in change["objects"]] == ["payment-waypoint"]
    assert change["blastRadius"]["callers"] == ["frontend", "legacy/checkout"]
    assert change["source"]["field"] == "services[0].calls[4]"
    assert change["source"]["line"] == line("ambient", "calls: [catalog, cart, reviews")


def test_an_l7_policy_on_the_waypoint_reaches_the_namespace(shop: Path, capsys: Any) -> None:
    policy = (
        "authorizationPolicies:\n"
        "  - name: deny-admin\n"
        "    action: DENY\n"
        "    targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}]\n"
        '    rules: [{to: [{operation: {paths: ["/admin/*"], ports: ["8080"]}}]}]\n'
    )
    data = reviewed(
        shop, capsys, "waypoint-l7", "ambient", replace("services:\n", policy + "services:\n")
    )
    change = only(data, "authorization")
    assert (change["service"], change["namespace"], change["risk"]) == (None, "shop", "high")
    assert change["before"] is None and change["after"]["action"] == "DENY"
    assert change["source"]["field"].startswith("authorizationPolicies[0]")
    # Every service of shop behind its waypoint: their callers.
    assert {"frontend", "legacy/checkout", "search/indexer"} <= set(
        change["blastRadius"]["callers"]
    )
    assert "waypoint" not in change["blastRadius"]["callers"]


def _waypoint(data: dict[str, Any], namespace: str) -> dict[str, Any]:
    [change] = [
        c for c in data["changes"]
        if any((o["kind"], o["name"], o["namespace"]) == ("Gateway", "waypoint", namespace)
               for o in c["objects"])
    ]  # fmt: skip
    return change


def test_a_waypoint_added_and_removed(shop: Path, capsys: Any) -> None:
    """legacy moving to ambient gets a waypoint (its checkout needs L7); moving back
    removes it."""
    name = branch(shop, "legacy-waypoint", "ambient", lambda t: MOVE(UNBLOCK(t)))
    added = _waypoint(review(shop, capsys, "--base", "main", "--head", name), "legacy")
    assert (added["kind"], added["risk"]) == ("object-added", "medium")
    assert added["before"] is None and added["after"] == "Gateway waypoint"
    assert added["source"] == {"generated": "MeshBaseline construct"}  # as synth records it
    removed = _waypoint(review(shop, capsys, "--base", name, "--head", "main"), "legacy")
    assert (removed["kind"], removed["risk"]) == ("object-removed", "critical")
    assert removed["before"] == "Gateway waypoint" and removed["after"] is None
    # Namespace-wide: whoever called legacy's services through it (at the base).
    assert removed["service"] is None and removed["blastRadius"]["callers"] == ["orders"]


def test_a_teams_route_timeout_names_the_teams_file(shop: Path, capsys: Any) -> None:
    name = branch(
        shop, "team-gamma", "ambient", replace("timeout: 2s", "timeout: 1s"), team="search"
    )
    change = only(review(shop, capsys, "--base", "main", "--head", name), "timeout")
    assert (change["service"], change["namespace"], change["risk"]) == ("query", "search", "high")
    assert change["objects"][0]["paths"] == ["/spec/rules/0/timeouts/request"]
    lines = (REPO / "environments/ambient/search.yaml").read_text().splitlines()
    assert change["source"]["file"] == "environments/ambient/search.yaml"
    assert change["source"]["field"] == "namespaces[0].services[0].http[0].timeout"
    assert lines[change["source"]["line"] - 1].strip() == "timeout: 2s"


def test_a_teams_header_match_is_other_with_its_line(shop: Path, capsys: Any) -> None:
    edit = replace('x-beta: {exact: "on"}', 'x-beta: {exact: "yes"}')
    name = branch(shop, "team-match", "ambient", edit, team="search")
    change = only(review(shop, capsys, "--base", "main", "--head", name), "other")
    assert (change["service"], change["namespace"], change["risk"]) == ("query", "search", "medium")
    pointer = "/spec/rules/0/matches/0/headers/0/value"
    assert change["objects"][0]["paths"] == [pointer]
    assert change["before"] == {pointer: "on"} and change["after"] == {pointer: "yes"}
    lines = (REPO / "environments/ambient/search.yaml").read_text().splitlines()
    assert change["source"]["file"] == "environments/ambient/search.yaml"
    assert "x-beta" in lines[change["source"]["line"] - 1]


def test_a_rule_s_timeouts_removed_whole_are_timeout_and_retries(shop: Path, capsys: Any) -> None:
    """`timeouts` goes with its last field: the timeout and the retries claim it, no `other`."""
    edit = replace(
        "    timeout: 5s\n"
        "    retries: {attempts: 2, perTryTimeout: 1500ms,"
        ' retryOn: "gateway-error,connect-failure"}\n',
        "    timeout: false\n    retries: false\n",
    )
    data = reviewed(shop, capsys, "gamma-no-timeouts", "ambient", edit)
    timeout, retries = only(data, "timeout"), only(data, "retries")
    assert (timeout["service"], timeout["after"], timeout["risk"]) == ("catalog", None, "high")
    assert retries["service"] == "catalog" and retries["after"] is None
    assert retries["source"]["file"] == "environments/ambient.yaml"  # where they were written
    assert not [c for c in data["changes"] if c["kind"] == "other"], data["changes"]
