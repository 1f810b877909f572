"""`meshops review` of Istio's own fields written in an environment file (docs/synth.md
"Istio's own terms") and of extensions: each edit is classified where a kind reads it, `other`
with its pointers where none does, never dropped, and names its file and line.

The base branch writes the fields into dev (one cluster, sidecars); each head edits one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_review import branch, only, replace, review
from tests.unit.test_review import shop as shop  # the repository fixture, reused

CATALOG = "    calls: [reviews]\n"
CATALOG_ROUTES = CATALOG + (
    "    http:\n"
    "      - name: beta\n"
    "        match: [{headers: {end-user: {exact: jason}}}]\n"
    "        route: [{destination: {host: catalog}}]\n"
    "        timeout: 3s\n"
    "      - name: default\n"
    "        route: [{destination: {host: catalog}}]\n"
)
CART = "    image: registry.example.com/shop/cart:1.23.0-dev.1\n"
CART_POOL = CART + "    trafficPolicy: {connectionPool: {tcp: {maxConnections: 100}}}\n"
PAYMENT = "    image: registry.example.com/shop/payment:2.1.0-dev.2\n"
PAYMENT_MTLS = PAYMENT + (
    "    peerAuthentications:\n"
    '      - {name: payment, mtls: {mode: STRICT}, portLevelMtls: {"8080": {mode: STRICT}}}\n'
)
REVIEWS = "    fault: {percent: 10, delay: 2s}\n"
REVIEWS_LUA = REVIEWS + (
    "    extensions:\n"
    "      - apiVersion: networking.istio.io/v1alpha3\n"
    "        kind: EnvoyFilter\n"
    "        name: reviews-lua\n"
    "        spec:\n"
    "          configPatches:\n"
    "            - applyTo: HTTP_FILTER\n"
    "              patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}\n"
)
EXTERNAL = "externalServices:\n"
LEDGER = EXTERNAL + (
    "  - name: ledger\n"
    "    host: ledger.internal.example.com\n"
    "    ports: [{number: 443, name: https, protocol: HTTPS}]\n"
    "    addresses: [10.1.2.3/32]\n"
    "    resolution: STATIC\n"
    "    endpoints: [{address: 10.1.2.3}]\n"
)


def written(text: str) -> str:
    """dev with the Istio fields and the extension the heads edit."""
    for old, new in (
        (CATALOG, CATALOG_ROUTES),
        (CART, CART_POOL),
        (PAYMENT, PAYMENT_MTLS),
        (REVIEWS, REVIEWS_LUA),
        (EXTERNAL, LEDGER),
    ):
        text = replace(old, new)(text)
    return text


@pytest.fixture(scope="module")
def base(shop: Path) -> Iterator[str]:
    yield branch(shop, "istio-fields", "dev", written)


def edited(shop: Path, capsys: Any, base: str, name: str, old: str, new: str) -> dict[str, Any]:
    head = branch(shop, name, "dev", replace(old, new), start=base)
    return review(shop, capsys, "--base", base, "--head", head)


def at_line(shop: Path, base: str, text: str) -> int:
    """The line of `text` in dev's environment file at the base branch."""
    lines = written((shop / "environments/dev.yaml").read_text()).splitlines()
    return next(i for i, found in enumerate(lines, 1) if text in found)


def test_the_fields_written_are_reviewed_as_added(shop: Path, capsys: Any, base: str) -> None:
    data = review(shop, capsys, "--base", "main", "--head", base)
    kinds = {(o["kind"], o["name"]): c for c in data["changes"] for o in c["objects"]}
    lua = kinds[("EnvoyFilter", "reviews-lua")]
    assert (lua["kind"], lua["risk"], lua["service"]) == ("object-added", "medium", "reviews")
    assert lua["source"]["field"] == "services[2]"  # the service whose extension it is
    ledger = kinds[("ServiceEntry", "ledger")]
    assert (ledger["kind"], ledger["risk"]) == ("egress", "high")
    assert ledger["after"]["endpoints"] == [{"address": "10.1.2.3"}]


def test_a_header_match_is_other_with_its_pointer(shop: Path, capsys: Any, base: str) -> None:
    data = edited(shop, capsys, base, "match-mary", "exact: jason", "exact: mary")
    change = only(data, "other")
    pointer = "/spec/http/0/match/0/headers/end-user/exact"
    assert (change["service"], change["risk"]) == ("catalog", "medium")
    assert change["before"] == {pointer: "jason"} and change["after"] == {pointer: "mary"}
    assert change["objects"][0]["paths"] == [pointer]
    assert change["source"] == {
        "file": "environments/dev.yaml",
        "line": at_line(shop, base, "exact: jason"),
        "field": "services[1].http[0].match[0].headers.end-user.exact",
    }
    assert change["blastRadius"]["callers"] == []  # dev has no authorization policies


def test_a_connection_pool_limit_is_circuit_breaking(shop: Path, capsys: Any, base: str) -> None:
    data = edited(shop, capsys, base, "pool", "maxConnections: 100", "maxConnections: 50")
    change = only(data, "outlier")
    assert (change["service"], change["risk"]) == ("cart", "medium")
    assert change["before"]["connectionPool"] == {"tcp": {"maxConnections": 100}}
    assert change["after"]["connectionPool"] == {"tcp": {"maxConnections": 50}}
    assert change["objects"][0]["paths"] == [
        "/spec/trafficPolicy/connectionPool/tcp/maxConnections"
    ]
    assert (
        change["source"]["field"] == "services[4].trafficPolicy.connectionPool.tcp.maxConnections"
    )
    assert change["source"]["line"] == at_line(shop, base, "maxConnections: 100")
    assert [c["kind"] for c in data["changes"]] == ["outlier"]


def test_a_service_entry_endpoint_is_egress(shop: Path, capsys: Any, base: str) -> None:
    data = edited(shop, capsys, base, "endpoint", "address: 10.1.2.3}", "address: 10.1.2.4}")
    change = only(data, "egress")
    assert (change["service"], change["risk"]) == ("ledger.internal.example.com", "medium")
    assert change["before"]["endpoints"] == [{"address": "10.1.2.3"}]
    assert change["after"]["endpoints"] == [{"address": "10.1.2.4"}]
    assert change["objects"][0]["paths"] == ["/spec/endpoints/0/address"]
    assert change["source"]["field"] == "externalServices[0].endpoints[0].address"
    assert change["source"]["line"] == at_line(shop, base, "endpoints: [{address: 10.1.2.3}]")
    assert [c["kind"] for c in data["changes"]] == ["egress"]


def test_port_level_mtls_loosened_is_critical(shop: Path, capsys: Any, base: str) -> None:
    data = edited(
        shop, capsys, base, "port-mtls", '"8080": {mode: STRICT}', '"8080": {mode: PERMISSIVE}'
    )
    change = only(data, "mtls")
    assert (change["service"], change["risk"]) == ("payment", "critical")
    assert change["before"] == {"mode": "STRICT", "ports": {"8080": "STRICT"}}
    assert change["after"] == {"mode": "STRICT", "ports": {"8080": "PERMISSIVE"}}
    assert change["objects"][0]["paths"] == ["/spec/portLevelMtls/8080/mode"]
    assert change["source"]["field"] == "services[6].peerAuthentications[0].portLevelMtls.8080.mode"
    assert change["source"]["line"] == at_line(shop, base, '"8080": {mode: STRICT}')
    assert [c["kind"] for c in data["changes"]] == ["mtls"]


def test_an_envoy_filter_change_is_other_never_dropped(shop: Path, capsys: Any, base: str) -> None:
    data = edited(shop, capsys, base, "lua", "operation: INSERT_BEFORE", "operation: INSERT_FIRST")
    change = only(data, "other")
    pointer = "/spec/configPatches/0/patch/operation"
    assert (change["service"], change["risk"]) == ("reviews", "medium")
    assert change["before"] == {pointer: "INSERT_BEFORE"}
    assert change["after"] == {pointer: "INSERT_FIRST"}
    assert [(o["kind"], o["name"], o["paths"]) for o in change["objects"]] == [
        ("EnvoyFilter", "reviews-lua", [pointer])
    ]
    assert (
        change["source"]["field"]
        == "services[2].extensions[0].spec.configPatches[0].patch.operation"
    )
    assert change["source"]["line"] == at_line(shop, base, "operation: INSERT_BEFORE")
