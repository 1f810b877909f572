"""`meshops review` of an ingress written in Kubernetes Gateway API (staging's `ingress.api:
gateway-api`): hosts and paths added or removed, and whether JWT is required, read from the
Gateway's listeners and the HTTPRoutes attached to it as from Istio's Gateway and routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.unit.test_review import branch, line, only, replace, review, reviewed
from tests.unit.test_review import shop as shop  # the repository fixture, reused

HOST = "staging.shop.example.com"
EXPOSE_CATALOG = replace(
    "    calls: [reviews]\n    timeout: 5s\n",
    "    calls: [reviews]\n    timeout: 5s\n    ingress: {path: /catalog}\n",
)
SECOND_HOST = replace(f"hosts: [{HOST}]", f"hosts: [{HOST}, beta.shop.example.com]")


def _exposed(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in data["changes"] if c["kind"] == "exposure"]


def test_a_new_path_on_the_gateway_is_critical_exposure(shop: Path, capsys: Any) -> None:
    data = reviewed(shop, capsys, "gw-expose", "staging", EXPOSE_CATALOG)
    [route] = [c for c in _exposed(data) if c["service"] == "catalog"]
    assert route["before"] is None and route["risk"] == "critical"
    assert route["after"] == {"hosts": [HOST], "paths": ["/catalog/*"], "jwtRequired": False}
    assert route["blastRadius"]["ingressHosts"] == [HOST]
    assert route["clusters"] == ["staging-1"]
    assert [(o["kind"], o["name"]) for o in route["objects"]] == [("HTTPRoute", "ingress-catalog")]
    assert route["source"]["file"] == "environments/staging.yaml"
    assert route["source"]["line"] == line("staging", "calls: [reviews]") + 2
    assert route["source"]["field"].startswith("services[1]")
    assert not [c for c in data["changes"] if c["kind"] == "object-added"], data["changes"]


def test_a_removed_path_on_the_gateway_is_critical(shop: Path, capsys: Any) -> None:
    name = branch(shop, "gw-expose-back", "staging", EXPOSE_CATALOG)
    data = review(shop, capsys, "--base", name, "--head", "main")
    [route] = [c for c in _exposed(data) if c["service"] == "catalog"]
    assert route["after"] is None and route["risk"] == "critical"
    assert route["before"] == {"hosts": [HOST], "paths": ["/catalog/*"], "jwtRequired": False}
    assert route["blastRadius"]["ingressHosts"] == [HOST]  # at the base: the route is gone


def test_a_path_change_on_the_gateway_is_exposure(shop: Path, capsys: Any) -> None:
    start = branch(shop, "gw-path-base", "staging", EXPOSE_CATALOG)
    edit = replace("ingress: {path: /catalog}", "ingress: {path: /products}")
    name = branch(shop, "gw-path", "staging", edit, start=start)
    data = review(shop, capsys, "--base", start, "--head", name)
    change = only(data, "exposure")
    assert change["service"] == "catalog" and change["risk"] == "critical"
    assert change["before"]["paths"] == ["/catalog/*"]
    assert change["after"]["paths"] == ["/products/*"]
    assert change["objects"][0]["paths"] == ["/spec/rules/0/matches/0/path/value"]
    assert change["source"]["field"] == "services[1].ingress.path"
    assert [c["kind"] for c in data["changes"]] == ["exposure"]


def test_a_host_added_to_the_gateway_is_exposure(shop: Path, capsys: Any) -> None:
    data = reviewed(shop, capsys, "gw-host", "staging", SECOND_HOST)
    exposed = _exposed(data)
    served = [c for c in exposed if c["objects"][0]["kind"] == "Gateway"]
    assert served and served[0]["risk"] == "high", json.dumps(exposed, indent=1)
    assert "beta.shop.example.com:443" in served[0]["after"]
    assert "beta.shop.example.com:443" not in served[0]["before"]
    [route] = [c for c in exposed if c["service"] == "frontend"]
    assert route["risk"] == "critical"  # "/" needs no JWT
    assert route["after"]["hosts"] == ["beta.shop.example.com", HOST]
    assert route["blastRadius"]["ingressHosts"] == ["beta.shop.example.com", HOST]
    assert route["source"]["field"] == "ingress.hosts[1]"  # the host added
    others = [c for c in data["changes"] if c["kind"] == "other"]
    assert all(o["paths"] for c in others for o in c["objects"]), others


def test_a_host_removed_from_the_gateway_is_critical(shop: Path, capsys: Any) -> None:
    name = branch(shop, "gw-host-back", "staging", SECOND_HOST)
    data = review(shop, capsys, "--base", name, "--head", "main")
    served = [c for c in _exposed(data) if c["objects"][0]["kind"] == "Gateway"]
    assert served and served[0]["risk"] == "critical"
    assert "beta.shop.example.com:443" in served[0]["before"]
    [route] = [c for c in _exposed(data) if c["service"] == "frontend"]
    assert route["risk"] == "critical" and route["after"]["hosts"] == [HOST]
    assert route["source"]["field"] == "ingress.hosts[1]"  # where the host was, at the base


def test_a_path_no_longer_requiring_a_jwt_at_the_gateway(shop: Path, capsys: Any) -> None:
    edit = replace('paths: ["/api/account/*", "/api/orders/*"]', 'paths: ["/api/account/*"]')
    change = only(reviewed(shop, capsys, "gw-jwt", "staging", edit), "exposure")
    assert change["risk"] == "critical" and change["clusters"] == ["staging-1"]
    assert change["before"] == {"jwtRequired": ["/api/account/*", "/api/orders/*"]}
    assert change["after"] == {"jwtRequired": ["/api/account/*"]}
    assert change["objects"][0]["name"] == "ingress-require-jwt"
    assert change["source"]["file"] == "environments/staging.yaml"
    assert change["source"]["line"] == line("staging", 'paths: ["/api/account/*"')


def test_a_path_exposed_behind_a_jwt_is_high(shop: Path, capsys: Any) -> None:
    edit = replace(
        "  - name: accounts\n    image: registry.example.com/shop/accounts:5.0.1\n",
        "  - name: accounts\n    image: registry.example.com/shop/accounts:5.0.1\n"
        "    ingress: {path: /api/account}\n",
    )
    data = reviewed(shop, capsys, "gw-jwt-path", "staging", edit)
    [route] = [c for c in _exposed(data) if c["service"] == "accounts"]
    assert route["after"] == {"hosts": [HOST], "paths": ["/api/account/*"], "jwtRequired": True}
    assert route["risk"] == "high"


def test_a_certificate_change_is_high_exposure(shop: Path, capsys: Any) -> None:
    edit = replace("tlsSecret: staging-shop-tls", "tlsSecret: staging-shop-tls-2026")
    change = only(reviewed(shop, capsys, "gw-cert", "staging", edit), "exposure")
    assert change["risk"] == "high" and change["objects"][0]["kind"] == "Gateway"
    assert change["before"][f"{HOST}:443"]["certificates"] == ["staging-shop-tls"]
    assert change["after"][f"{HOST}:443"]["certificates"] == ["staging-shop-tls-2026"]
    assert change["objects"][0]["paths"] == ["/spec/listeners/0/tls/certificateRefs/0"]
    assert change["source"]["field"] == "ingress.tlsSecret"
