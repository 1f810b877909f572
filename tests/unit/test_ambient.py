"""Ambient mode: what an ambient namespace renders (sample `ambient`: shop and search ambient,
legacy on sidecars), object by object, and what it refuses when the file is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charts_py.config import environment, gamma
from charts_py.errors import ConfigError
from charts_py.render import synth
from charts_py.render.manifest import Manifest
from tests.conftest import find, write_envs

AT = "ambient/ambient-1"
WAYPOINT_PRINCIPAL = "cluster.local/ns/shop/sa/waypoint"
SERVICE = {"group": "", "kind": "Service"}


def obj(rendered: list[Manifest], kind: str, name: str, namespace: str) -> dict[str, Any]:
    return find(rendered, AT, kind, name, namespace)


def names(rendered: list[Manifest], kind: str, namespace: str) -> set[str]:
    return {
        m.obj["metadata"]["name"]
        for m in rendered
        if m.path.startswith(AT + "/")
        and m.obj["kind"] == kind
        and m.obj["metadata"].get("namespace") == namespace
    }


def test_an_ambient_namespace_is_labelled_for_ztunnel_and_not_for_injection(
    rendered: list[Manifest],
) -> None:
    shop = find(rendered, AT, "Namespace", "shop")["metadata"]["labels"]
    assert shop["istio.io/dataplane-mode"] == "ambient"
    assert "istio.io/rev" not in shop and "istio-injection" not in shop
    legacy = find(rendered, AT, "Namespace", "legacy")["metadata"]["labels"]
    assert legacy["istio.io/rev"] == "1-31" and "istio.io/dataplane-mode" not in legacy


def test_the_waypoint_is_a_gateway_api_gateway_of_class_istio_waypoint(
    rendered: list[Manifest],
) -> None:
    gateway = obj(rendered, "Gateway", "waypoint", "shop")
    assert gateway["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gateway["metadata"]["labels"]["istio.io/waypoint-for"] == "service"
    assert gateway["spec"] == {
        "gatewayClassName": "istio-waypoint",
        "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
    }
    # Argo CD assesses Gateway API health: the last wave, never one everything else waits on.
    assert gateway["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "0"
    assert "waypoint" not in names(rendered, "Gateway", "legacy")


def test_services_that_need_l7_use_the_waypoint(rendered: list[Manifest]) -> None:
    reviews = obj(rendered, "Service", "reviews", "shop")["metadata"]["labels"]
    assert reviews["istio.io/use-waypoint"] == "waypoint"
    shop = find(rendered, AT, "Namespace", "shop")["metadata"]["labels"]
    assert "istio.io/use-waypoint" not in shop  # every Service is meshops's to label


def test_weights_become_an_httproute_on_the_service_splitting_between_version_services(
    rendered: list[Manifest],
) -> None:
    route = obj(rendered, "HTTPRoute", "reviews", "shop")["spec"]
    assert route["parentRefs"] == [{"group": "", "kind": "Service", "name": "reviews"}]
    (rule,) = route["rules"]
    assert rule["backendRefs"] == [
        {**SERVICE, "name": "reviews-v1", "port": 8080, "weight": 90},
        {**SERVICE, "name": "reviews-v2", "port": 8080, "weight": 10},
    ]
    assert rule["timeouts"] == {"request": "10s", "backendRequest": "3s"}
    # policy.retries.retryOn "5xx,connect-failure,refused-stream": 5xx as codes, the rest
    # is what istiod adds to every HTTPRoute retry.
    assert rule["retry"] == {"attempts": 2, "codes": list(range(500, 512))}
    v2 = obj(rendered, "Service", "reviews-v2", "shop")["spec"]
    assert v2["selector"] == {"app": "reviews", "version": "v2"}
    assert v2["ports"] == [{"name": "http", "port": 8080, "appProtocol": "http"}]
    assert "reviews" not in names(rendered, "VirtualService", "shop")


def test_a_single_version_routes_to_the_service_itself(rendered: list[Manifest]) -> None:
    (rule,) = obj(rendered, "HTTPRoute", "catalog", "shop")["spec"]["rules"]
    assert rule["backendRefs"] == [{**SERVICE, "name": "catalog", "port": 8080, "weight": 100}]
    assert rule["retry"] == {"attempts": 2, "codes": [502, 503, 504]}  # gateway-error
    assert "catalog-v1" not in names(rendered, "Service", "shop")


def test_grpc_weights_alone_become_a_grpcroute(rendered: list[Manifest]) -> None:
    route = obj(rendered, "GRPCRoute", "recommendations", "shop")["spec"]
    (rule,) = route["rules"]
    assert [r["weight"] for r in rule["backendRefs"]] == [80, 20]
    assert set(rule) == {"name", "backendRefs"}


def test_istios_http_routes_are_translated_field_by_field(rendered: list[Manifest]) -> None:
    beta, default = obj(rendered, "HTTPRoute", "query", "search")["spec"]["rules"]
    assert beta["matches"] == [
        {
            "headers": [{"name": "x-beta", "type": "Exact", "value": "on"}],
            "path": {"type": "PathPrefix", "value": "/search"},
        }
    ]
    assert beta["backendRefs"] == [{**SERVICE, "name": "query-v2", "port": 8080}]
    assert beta["timeouts"] == {"request": "2s"}
    assert default["backendRefs"] == [{**SERVICE, "name": "query-v1", "port": 8080}]
    assert default["timeouts"] == {"request": "3s", "backendRequest": "1s"}


def test_ztunnel_admits_the_waypoint_and_the_waypoint_admits_the_callers(
    rendered: list[Manifest],
) -> None:
    l4 = obj(rendered, "AuthorizationPolicy", "catalog", "shop")["spec"]
    assert l4["selector"] == {"matchLabels": {"app": "catalog"}}
    assert l4["rules"] == [
        {
            "from": [{"source": {"principals": [WAYPOINT_PRINCIPAL]}}],
            "to": [{"operation": {"ports": ["8080"]}}],
        }
    ]
    l7 = obj(rendered, "AuthorizationPolicy", "catalog-waypoint", "shop")["spec"]
    assert l7["targetRefs"] == [{"group": "", "kind": "Service", "name": "catalog"}]
    assert "selector" not in l7
    assert l7["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/search/sa/indexer",
        "cluster.local/ns/shop/sa/frontend",
        "cluster.local/ns/shop/sa/recommendations",
    ]


def test_the_ingress_gateway_bypasses_the_waypoint_so_ztunnel_admits_it(
    rendered: list[Manifest],
) -> None:
    frontend = obj(rendered, "AuthorizationPolicy", "frontend", "shop")["spec"]
    # The sample's ingress is Gateway API's: istiod deploys it as `ingress-istio`.
    assert frontend["rules"][0]["from"] == [
        {"source": {"principals": ["cluster.local/ns/istio-system/sa/ingress-istio"]}}
    ]
    # Nobody reaches frontend through its waypoint: the waypoint admits nobody for it.
    assert "frontend-waypoint" not in names(rendered, "AuthorizationPolicy", "shop")


def test_an_l4_only_service_keeps_its_callers_at_ztunnel_and_no_waypoint(
    tmp_path: Path,
) -> None:
    """`db` asks for nothing L7 (dev profile: no ejection; no timeout, retries, alerts, load
    balancer or pool): ztunnel alone serves it; `web` calls it."""
    l4_only = dict.fromkeys(
        ("alerts", "timeout", "retries", "loadBalancer", "connectionPool"), False
    )
    data = minimal({"calls": ["db"]})
    data["services"].append({"name": "db", "image": "registry.example.com/db:1.0", **l4_only})
    data["policy"]["authorization"] = True
    env = environment.load_all(write_envs(tmp_path, dev=data))["dev"]
    out = synth.manifests([env], [env])
    at = "dev/c1"
    assert "istio.io/use-waypoint" not in find(out, at, "Service", "db")["metadata"].get(
        "labels", {}
    )
    policy = find(out, at, "AuthorizationPolicy", "db")["spec"]
    assert policy["rules"][0]["from"][0]["source"]["principals"] == ["cluster.local/ns/shop/sa/web"]
    kinds = {m.obj["kind"] for m in out if m.path.startswith(at) and "db" in m.path}
    assert "HTTPRoute" not in kinds and "VirtualService" not in kinds
    assert find(out, at, "Service", "web")["metadata"]["labels"]["istio.io/use-waypoint"]


def test_a_written_l7_policy_targets_the_waypoint(rendered: list[Manifest]) -> None:
    spec = obj(rendered, "AuthorizationPolicy", "payment-charge-only", "shop")["spec"]
    assert spec["targetRefs"] == [{"group": "", "kind": "Service", "name": "payment"}]
    assert "selector" not in spec


def test_no_sidecars_in_ambient_namespaces(rendered: list[Manifest]) -> None:
    assert names(rendered, "Sidecar", "shop") == set()
    assert names(rendered, "Sidecar", "legacy") == {"default", "checkout", "orders"}
    pod = obj(rendered, "Deployment", "reviews-v1", "shop")["spec"]["template"]["metadata"]
    assert not any(k.startswith("sidecar.istio.io/") for k in pod.get("annotations", {}))
    legacy = obj(rendered, "Deployment", "checkout-v1", "legacy")["spec"]["template"]
    assert "sidecar.istio.io/proxyCPU" in legacy["metadata"]["annotations"]


def test_monitoring_scrapes_ztunnel_and_waypoints_instead_of_sidecars(
    rendered: list[Manifest],
) -> None:
    assert names(rendered, "PodMonitor", "shop") == {"waypoint-stats"}
    assert names(rendered, "PodMonitor", "legacy") == {"envoy-stats"}
    waypoint = obj(rendered, "PodMonitor", "waypoint-stats", "shop")["spec"]
    assert waypoint["selector"] == {
        "matchLabels": {"gateway.istio.io/managed": "istio.io-mesh-controller"}
    }
    ztunnel = obj(rendered, "PodMonitor", "ztunnel", "istio-system")["spec"]
    assert ztunnel["podMetricsEndpoints"][0]["port"] == "ztunnel-stats"
    rule = obj(rendered, "PrometheusRule", "reviews-slo", "shop")["spec"]["groups"][0]
    assert all('reporter="waypoint"' in r["expr"] for r in rule["rules"])
    legacy = obj(rendered, "PrometheusRule", "checkout-slo", "legacy")["spec"]["groups"][0]
    assert all('reporter="destination"' in r["expr"] for r in legacy["rules"])
    adapter = obj(rendered, "ConfigMap", "adapter-config", "monitoring")["data"]["config.yaml"]
    assert 'reporter=~"destination|waypoint"' in adapter


def test_provenance_traces_the_data_plane_to_its_field() -> None:
    env = environment.load(Path("environments/ambient.yaml"))
    shop, legacy, search = env.namespaces
    assert env.dataplane(shop).where == ("policy", "dataplane")
    assert env.dataplane(legacy).where == ("namespaces", 0, "dataplane")
    assert env.dataplane(search).where == ("policy", "dataplane")
    assert env.ambient_namespaces == {"shop", "search"}


# --- load errors ---------------------------------------------------------------------------


def minimal(service: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A one-service dev environment whose namespace is ambient."""
    return {
        "profile": "dev",
        "namespace": "shop",
        "clusters": [{"name": "c1", "region": "r1", "network": "n1"}],
        "argocd": {"repoURL": "https://git.example.com/mesh.git"},
        "policy": {
            "dataplane": "ambient",
            "retries": {"attempts": 2, "perTryTimeout": "3s", "retryOn": "5xx,connect-failure"},
        },
        "services": [{"name": "web", "image": "registry.example.com/web:1.0", **(service or {})}],
        **top,
    }


def load_error(folder: Path) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        environment.load_all(folder)
    return raised.value


def test_the_minimal_environment_loads(tmp_path: Path) -> None:
    env = environment.load_all(write_envs(tmp_path, dev=minimal()))["dev"]
    assert env.ambient_namespaces == {"shop"}


def test_a_fault_cannot_move_to_ambient(tmp_path: Path) -> None:
    data = minimal({"fault": {"percent": 5, "abort": 503}})
    error = load_error(write_envs(tmp_path, dev=data))
    assert error.field == "services[0].fault"
    assert "(rule waypoint-fault-retries)" in error.reason
    assert "dataplane: sidecar" in error.reason and error.line


def test_the_same_fault_loads_in_a_namespace_pinned_to_sidecars(tmp_path: Path) -> None:
    data = minimal()
    web = {"name": "web", "image": "registry.example.com/web:1.0"}
    faulty = {**web, "fault": {"percent": 5, "abort": 503}}
    data["namespaces"] = [{"name": "legacy", "dataplane": "sidecar", "services": [faulty]}]
    env = environment.load_all(write_envs(tmp_path, dev=data))["dev"]
    assert env.ambient_namespaces == {"shop"}


def test_an_experiment_cannot_move_to_ambient(tmp_path: Path) -> None:
    experiment = {"name": "slow", "service": "web", "percent": 10, "delay": "1s"}
    error = load_error(write_envs(tmp_path, dev=minimal(experiments=[experiment])))
    assert error.field == "experiments[0]"
    assert "(rule waypoint-fault-retries)" in error.reason


def test_retry_conditions_httproute_cannot_say_are_refused(tmp_path: Path) -> None:
    retries = {"attempts": 1, "perTryTimeout": "2s", "retryOn": "reset,5xx"}
    error = load_error(write_envs(tmp_path, dev=minimal({"retries": retries})))
    assert error.field == "services[0].retries"
    assert "reset" in error.reason and "(rule waypoint-fault-retries)" in error.reason
    assert "set at services[0].retries.retryOn" in error.reason


def test_istios_default_retry_on_says_it_is_the_default(tmp_path: Path) -> None:
    retries = {"attempts": 1, "perTryTimeout": "2s"}
    error = load_error(write_envs(tmp_path, dev=minimal({"retries": retries})))
    assert "(the default)" in error.reason and "(rule waypoint-fault-retries)" in error.reason


@pytest.mark.parametrize(
    ("route", "field", "words"),
    [
        ({"fault": {"abort": {"httpStatus": 503}}}, "http[0].fault", "fault injection"),
        ({"corsPolicy": {"allowOrigins": [{"exact": "x"}]}}, "http[0].corsPolicy", "CORS"),
        ({"match": [{"headers": {"a": {"prefix": "b"}}}]}, "http[0].match[0].headers.a", "prefix"),
        ({"match": [{"sourceLabels": {"a": "b"}}]}, "http[0].match[0].sourceLabels",
         "sourceLabels"),
        ({"retries": {"attempts": 0}}, "http[0].retries.attempts", "no retries"),
        ({"route": [{"destination": {"host": "elsewhere.example.com"}}]},
         "http[0].route[0].destination.host", "ReferenceGrant"),
    ],
)  # fmt: skip
def test_route_fields_gateway_api_cannot_say_are_refused(
    tmp_path: Path, route: dict[str, Any], field: str, words: str
) -> None:
    route = {"route": [{"destination": {"host": "web"}}], **route}
    error = load_error(write_envs(tmp_path, dev=minimal({"http": [route]})))
    assert error.field == f"services[0].{field}"
    assert words in error.reason and "(rule ambient-route-field)" in error.reason


def test_tcp_routes_are_refused(tmp_path: Path) -> None:
    tcp = [{"route": [{"destination": {"host": "web"}}]}]
    error = load_error(write_envs(tmp_path, dev=minimal({"tcp": tcp})))
    assert error.field == "services[0].tcp" and "(rule ambient-tcp-routes)" in error.reason


def test_an_envoy_filter_is_refused(tmp_path: Path) -> None:
    envoy_filter = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "name": "lua",
        "spec": {"configPatches": [{"applyTo": "HTTP_FILTER"}]},
    }
    error = load_error(write_envs(tmp_path, dev=minimal({"extensions": [envoy_filter]})))
    assert error.field == "services[0].extensions[0]"
    assert "WasmPlugin" in error.reason and "(rule envoy-filter-waypoint)" in error.reason


def test_an_unknown_data_plane_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["policy"]["dataplane"] = "sidecarless"
    error = load_error(write_envs(tmp_path, dev=data))
    assert error.field == "policy.dataplane" and "sidecarless" in error.reason


# --- Istio's route fields in Gateway API's terms (config/gamma.py) --------------------------


def same_namespace(host: Any, subset: Any) -> str | None:
    """Hosts `web` (versions v1, v2) and `mirror` of the route's namespace."""
    if host not in ("web", "mirror"):
        return None
    return host if subset is None else f"{host}-{subset}"


def test_rewrite_redirect_headers_and_mirror_translate() -> None:
    route = {
        "match": [{"uri": {"prefix": "/old"}}],
        "rewrite": {"uri": "/new", "authority": "web.example.com"},
        "headers": {"request": {"set": {"b": "2", "a": "1"}, "remove": ["x"]},
                    "response": {"add": {"c": "3"}}},
        "route": [{"destination": {"host": "web", "subset": "v2"}, "weight": 100}],
        "mirror": {"host": "mirror"},
        "mirrorPercentage": {"value": 12.5},
    }  # fmt: skip
    rule, problems = gamma.rule(route, same_namespace, 8080)
    assert problems == []
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/old"}}]
    assert rule["backendRefs"] == [{**SERVICE, "name": "web-v2", "port": 8080, "weight": 100}]
    assert rule["filters"] == [
        {"type": "URLRewrite", "urlRewrite": {"hostname": "web.example.com",
         "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/new"}}},
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {
            "set": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}], "remove": ["x"]}},
        {"type": "ResponseHeaderModifier",
         "responseHeaderModifier": {"add": [{"name": "c", "value": "3"}]}},
        {"type": "RequestMirror", "requestMirror": {
            "backendRef": {**SERVICE, "name": "mirror", "port": 8080},
            "fraction": {"numerator": 12500, "denominator": 100000}}},
    ]  # fmt: skip


def test_a_redirect_and_an_exact_rewrite() -> None:
    redirect, problems = gamma.rule(
        {"match": [{"uri": {"exact": "/a"}}], "redirect": {"uri": "/b", "redirectCode": 301}},
        same_namespace,
        8080,
    )
    assert problems == []
    assert redirect["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/b"}, "statusCode": 301}}
    ]  # fmt: skip
    _, bad = gamma.rule({"redirect": {"redirectCode": 305}}, same_namespace, 8080)
    assert bad and bad[0][0] == ("redirect", "redirectCode")


def test_retry_on_conditions_as_codes() -> None:
    assert gamma.retry_codes("gateway-error,503,retriable-4xx,connect-failure") == (
        [409, 502, 503, 504],
        [],
    )
    assert gamma.retry_codes("5xx,reset,deadline-exceeded") == (list(range(500, 512)), [
        "reset", "deadline-exceeded"])  # fmt: skip
