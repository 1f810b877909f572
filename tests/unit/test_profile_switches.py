"""Profiles as defaults: what a profile adds can be set or switched off per environment,
namespace or service; where it is policy, a waiver; `profile: none` adds nothing; names kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, contract, provenance
from charts_py.config import environment, waivers
from charts_py.errors import ConfigError
from charts_py.validate.findings import Severity
from charts_py.validate.rules import catalog
from tests.conftest import sample, write_envs


def synth(tmp_path: Path, **envs: dict[str, Any]) -> Path:
    """Synth `envs` (their own files only) and return the dist folder."""
    folder = write_envs(tmp_path / "envs", **envs)
    dist = tmp_path / "dist"
    assert cli.main(["synth", "--environments", str(folder), "--dist", str(dist)]) == 0
    return dist


def objects(dist: Path, cluster: str) -> dict[str, dict[str, Any]]:
    """`<Kind>/<namespace>/<name>` -> object, of one cluster folder."""
    out = {}
    for path in dist.glob(f"*/{cluster}/*/*.yaml"):
        obj = yaml.safe_load(path.read_text())
        meta = obj["metadata"]
        out[f"{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"] = obj
    return out


def single(profile: str) -> dict[str, Any]:
    """The dev sample under another profile, with its fault experiments dropped."""
    data = sample("dev")
    data["profile"] = profile
    data.pop("experiments", None)
    data.pop("loadTests", None)
    for svc in data["services"]:
        svc.pop("fault", None)
    return data


def test_profile_none_adds_nothing_to_the_mesh_layer(tmp_path: Path) -> None:
    found = objects(synth(tmp_path, dev=single("none")), "dev-1")
    kinds = {key.split("/")[0] for key in found}
    assert not kinds & {"PeerAuthentication", "Telemetry", "Sidecar", "AuthorizationPolicy"}
    assert not any(key.endswith("-slo") for key in found)
    rule = found["DestinationRule/shop/catalog"]
    assert "trafficPolicy" not in rule["spec"]
    route = found["VirtualService/shop/catalog"]["spec"]["http"][-1]
    assert "timeout" not in route and "retries" not in route


def test_a_service_switches_off_what_the_profile_adds(tmp_path: Path) -> None:
    data = sample("staging")
    catalog_svc = next(s for s in data["services"] if s["name"] == "catalog")
    catalog_svc.update(retries=False, timeout=False, outlierDetection=False, alerts=False)
    catalog_svc["connectionPool"] = False
    dist = synth(tmp_path, staging=data)
    found = objects(dist, "staging-1")
    route = found["VirtualService/shop/catalog"]["spec"]["http"][-1]
    assert "timeout" not in route and "retries" not in route
    policy = found["DestinationRule/shop/catalog"]["spec"]["trafficPolicy"]
    assert set(policy) == {"loadBalancer"}
    assert "PrometheusRule/shop/catalog-slo" not in found
    assert "retries" in found["VirtualService/shop/cart"]["spec"]["http"][-1]


def test_a_service_sets_its_own_connection_pool_and_balancer(tmp_path: Path) -> None:
    data = sample("staging")
    cart = next(s for s in data["services"] if s["name"] == "cart")
    cart["loadBalancer"] = "RANDOM"
    cart["connectionPool"] = {
        "maxConnections": 7,
        "http1MaxPendingRequests": 8,
        "http2MaxRequests": 9,
    }
    dist = synth(tmp_path, staging=data)
    policy = objects(dist, "staging-1")["DestinationRule/shop/cart"]["spec"]["trafficPolicy"]
    assert policy["loadBalancer"] == {"simple": "RANDOM"}
    assert policy["connectionPool"]["tcp"] == {"maxConnections": 7}
    prov = provenance.Provenance.from_bytes(
        (dist / "staging/staging-1.provenance.json").read_bytes()
    )
    index = [s["name"] for s in data["services"]].index("cart")
    key = "DestinationRule.networking.istio.io.shop.cart"
    assert prov.objects[key].fields["/spec/trafficPolicy/loadBalancer/simple"] == (
        provenance.EnvField(prov.file, f"services[{index}].loadBalancer")
    )


def team_file(envs: Path, team: str, body: dict[str, Any]) -> None:
    (envs / "staging").mkdir(exist_ok=True)
    (envs / "staging" / f"{team}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def test_a_namespace_sets_defaults_and_switches_for_its_services(tmp_path: Path) -> None:
    data = sample("staging")
    data["teams"] = {"pay": {"namespaces": ["pay"]}}
    envs = write_envs(tmp_path / "envs", staging=data)
    svc = {"name": "ledger", "image": "registry.example.com/ledger:1.0.0"}
    block = {
        "name": "pay",
        "defaults": {"timeout": "4s", "retries": False},
        "authorization": False,
        "services": [svc, {**svc, "name": "fraud", "timeout": "6s"}],
    }
    team_file(envs, "pay", {"namespaces": [block]})
    dist = tmp_path / "dist"
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(dist)]) == 0
    found = objects(dist, "staging-1")
    ledger = found["VirtualService/pay/ledger"]["spec"]["http"][-1]
    assert ledger["timeout"] == "4s" and "retries" not in ledger
    assert found["VirtualService/pay/fraud"]["spec"]["http"][-1]["timeout"] == "6s"
    assert "AuthorizationPolicy/pay/allow-nothing" not in found
    assert "AuthorizationPolicy/shop/allow-nothing" in found
    prov = provenance.Provenance.from_bytes(
        (dist / "staging/staging-1.provenance.json").read_bytes()
    )
    timeout = prov.objects["VirtualService.networking.istio.io.pay.ledger"].fields[
        "/spec/http/0/timeout"
    ]
    assert timeout == provenance.EnvField("envs/staging/pay.yaml", "namespaces[0].defaults.timeout")


def test_policy_switched_off_in_prod_names_the_rule_and_the_waiver(tmp_path: Path) -> None:
    data = sample("prod")
    data["policy"] = {"sidecar": False}
    envs = write_envs(tmp_path / "envs", prod=data)
    with pytest.raises(ConfigError) as caught:
        environment.load(envs / "prod.yaml")
    message = str(caught.value)
    assert "policy.sidecar: sidecar is off in namespace shop" in message
    assert (
        "(rule egress-restricted); to waive it, add `waivers: [{rule: egress-restricted" in message
    )


def test_permissive_mtls_in_prod_needs_a_waiver(tmp_path: Path) -> None:
    data = sample("prod")
    data["policy"] = {"mtlsMode": "PERMISSIVE"}
    with pytest.raises(ConfigError, match=r"policy\.mtlsMode: .*rule mtls-strict"):
        environment.load(write_envs(tmp_path / "envs", prod=data) / "prod.yaml")


def test_a_waiver_lets_it_through_and_is_written_for_validate(tmp_path: Path) -> None:
    data = sample("prod")
    data["policy"] = {"mtlsMode": "PERMISSIVE"}
    data["waivers"] = [{"rule": "mtls-strict", "reason": "legacy clients until Q3"}]
    dist = synth(tmp_path, prod=data)  # synth validates: the suppression is accepted
    found = objects(dist, "prod-east")
    mesh = found["PeerAuthentication/istio-system/default"]
    assert mesh["spec"]["mtls"]["mode"] == "PERMISSIVE"
    assert mesh["metadata"]["annotations"][contract.SUPPRESS] == (
        "mtls-strict: legacy clients until Q3"
    )
    assert contract.SUPPRESS in found["Namespace//shop"]["metadata"]["annotations"]


def test_fault_injection_in_prod_names_its_rule(tmp_path: Path) -> None:
    data = sample("prod")
    data["services"][1]["fault"] = {"percent": 1, "abort": 503}
    with pytest.raises(ConfigError, match=r"services\[1\]\.fault: .*rule fault-injection"):
        environment.load(write_envs(tmp_path / "envs", prod=data) / "prod.yaml")


def test_the_policy_table_is_what_validate_fails_on() -> None:
    for profile, rules in waivers.POLICY.items():
        for rule in rules:
            assert catalog.BY_ID[rule].severity(profile) == Severity.ERROR, (profile, rule)


def test_a_kept_name_is_used_for_the_object(tmp_path: Path) -> None:
    data = sample("staging")
    cart = next(s for s in data["services"] if s["name"] == "cart")
    cart["names"] = {"virtualService": "cart-route", "authorizationPolicy": "cart-callers"}
    found = objects(synth(tmp_path, staging=data), "staging-1")
    assert "VirtualService/shop/cart-route" in found
    assert "VirtualService/shop/cart" not in found
    assert "AuthorizationPolicy/shop/cart-callers" in found
    assert "DestinationRule/shop/cart" in found


def test_a_kept_name_must_be_a_dns_label(tmp_path: Path) -> None:
    data = sample("staging")
    data["services"][0]["names"] = {"sidecar": "Not_A_Name"}
    with pytest.raises(ConfigError, match=r"services\[0\]\.names\.sidecar: String should match"):
        environment.load(write_envs(tmp_path / "envs", staging=data) / "staging.yaml")
