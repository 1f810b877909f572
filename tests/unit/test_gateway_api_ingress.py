"""`ingress.api: gateway-api`: the Gateway, the redirect, an HTTPRoute per exposed service,
JWT by targetRefs, the identity services admit, and what cannot be carried is refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, naming
from charts_py.config import environment, installation
from charts_py.render import synth
from charts_py.render.manifest import Manifest
from tests.conftest import REPO, find, kinds_under, sample, write_envs

GATEWAY_API = "gateway.networking.k8s.io"
PREFIX = "dev/staging-1"  # the staging sample, written as environment `dev`


def render(tmp_path: Path, data: dict[str, Any]) -> list[Manifest]:
    envs = list(environment.load_all(write_envs(tmp_path / "envs", dev=data)).values())
    return synth.manifests(envs, envs)


def gateway_api_dev(**ingress: Any) -> dict[str, Any]:
    """staging (authorization on) with a Gateway API ingress on two hosts, JWT on
    /api/account, two services exposed."""
    data = sample("staging")
    data["ingress"] = {
        "api": "gateway-api",
        "hosts": ["shop.example.com", "*.shop.example.com"],
        "tlsSecret": "shop-tls",
        "jwt": {
            "issuer": "https://auth.example.com/",
            "jwksUri": "https://auth.example.com/jwks.json",
            "paths": ["/api/account/*"],
        },
        **ingress,
    }
    accounts = next(s for s in data["services"] if s["name"] == "accounts")
    accounts["ingress"] = {"path": "/api/account"}
    return data


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> list[Manifest]:
    return render(tmp_path_factory.mktemp("gateway-api"), gateway_api_dev())


def test_the_gateway_is_of_class_istio_with_https_and_http_listeners_per_host(
    manifests: list[Manifest],
) -> None:
    gateway = find(manifests, PREFIX, "Gateway", "ingress", naming.MESH_ROOT)
    assert gateway["apiVersion"] == f"{GATEWAY_API}/v1"
    assert gateway["spec"]["gatewayClassName"] == "istio"
    listeners = {item["name"]: item for item in gateway["spec"]["listeners"]}
    assert sorted(listeners) == [
        "http-shop.example.com",
        "http-wildcard.shop.example.com",
        "https-shop.example.com",
        "https-wildcard.shop.example.com",
    ]
    https = listeners["https-wildcard.shop.example.com"]
    assert https["hostname"] == "*.shop.example.com"
    assert (https["port"], https["protocol"]) == (443, "HTTPS")
    assert https["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"kind": "Secret", "name": "shop-tls"}],
    }
    # Routes attach to the public HTTPS listeners from the environment's namespace only.
    selector = https["allowedRoutes"]["namespaces"]["selector"]
    assert selector == {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}
    assert listeners["http-shop.example.com"]["port"] == 80
    # istiod copies infrastructure labels, not meshops's, onto what it deploys.
    assert gateway["spec"]["infrastructure"]["labels"] == {"istio.io/rev": "1-31"}
    assert gateway["metadata"]["labels"]["istio.io/rev"] == "1-31"


def test_http_redirects_to_https_and_serves_nothing_else(manifests: list[Manifest]) -> None:
    redirect = find(manifests, PREFIX, "HTTPRoute", "ingress-https-redirect", naming.MESH_ROOT)
    sections = [ref["sectionName"] for ref in redirect["spec"]["parentRefs"]]
    assert sections == ["http-shop.example.com", "http-wildcard.shop.example.com"]
    (rule,) = redirect["spec"]["rules"]
    assert rule["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]
    routes = [
        m.obj for m in manifests if m.path.startswith(PREFIX) and m.obj["kind"] == "HTTPRoute"
    ]
    for route in routes:
        if route is not redirect:
            assert all(r["sectionName"].startswith("https-") for r in route["spec"]["parentRefs"])


def test_one_httproute_per_exposed_service_to_its_service_port(manifests: list[Manifest]) -> None:
    accounts = find(manifests, PREFIX, "HTTPRoute", "ingress-accounts", "shop")
    spec = accounts["spec"]
    assert spec["hostnames"] == ["shop.example.com", "*.shop.example.com"]
    (rule,) = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/api/account"}}]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "accounts", "port": 8080}
    ]
    assert rule["timeouts"] == {"request": "10s"}  # staging's route timeout
    frontend = find(manifests, PREFIX, "HTTPRoute", "ingress-frontend", "shop")
    assert frontend["spec"]["rules"][0]["matches"][0]["path"]["value"] == "/"
    # Istio's Gateway and VirtualService are not rendered beside it.
    assert "VirtualService" not in {
        m.obj["kind"] for m in manifests if m.path.startswith(f"{PREFIX}/gateways/")
    }
    assert kinds_under(manifests, f"{PREFIX}/gateways")["HTTPRoute"] == 3


def test_jwt_policies_target_the_gateway(manifests: list[Manifest]) -> None:
    target = [{"group": GATEWAY_API, "kind": "Gateway", "name": "ingress"}]
    authn = find(manifests, PREFIX, "RequestAuthentication", "ingress-jwt", naming.MESH_ROOT)
    assert authn["spec"]["targetRefs"] == target
    assert "selector" not in authn["spec"]
    deny = find(manifests, PREFIX, "AuthorizationPolicy", "ingress-require-jwt", naming.MESH_ROOT)
    assert deny["spec"]["targetRefs"] == target
    assert deny["spec"]["action"] == "DENY"
    operation = deny["spec"]["rules"][0]["to"][0]["operation"]
    assert operation == {"ports": ["80", "443"], "paths": ["/api/account/*"]}


def test_exposed_services_admit_the_gateway_istiod_deploys(manifests: list[Manifest]) -> None:
    policy = find(manifests, PREFIX, "AuthorizationPolicy", "accounts", "shop")
    principals = policy["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert "cluster.local/ns/istio-system/sa/ingress-istio" in principals
    assert naming.INGRESS_GATEWAY_PRINCIPAL not in principals


def test_the_helm_ingress_gateway_is_not_installed_beside_it(manifests: list[Manifest]) -> None:
    apps = {m.obj["metadata"]["name"] for m in manifests if m.obj["kind"] == "Application"}
    assert "staging-1-istiod-1-31" in apps
    assert "staging-1-istio-ingressgateway" not in apps


def test_top_level_gateways_keep_the_helm_ingress_gateway(tmp_path: Path) -> None:
    data = gateway_api_dev()
    data["gateways"] = [
        {
            "name": "partner",
            "servers": [
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["partner.example.com"],
                    "tls": {"mode": "SIMPLE", "credentialName": "partner-tls"},
                }
            ],
        }
    ]
    envs = environment.load_all(write_envs(tmp_path / "envs", dev=data))
    env = envs["dev"]
    installed = installation.of_cluster(env, env.spec.clusters[0])
    assert installation.INGRESS in installed.gateways


def test_istio_api_is_the_default(tmp_path: Path) -> None:
    data = gateway_api_dev()
    del data["ingress"]["api"]
    manifests = render(tmp_path, data)
    gateway = find(manifests, PREFIX, "Gateway", "ingress", naming.MESH_ROOT)
    assert gateway["apiVersion"] == "networking.istio.io/v1"
    assert "HTTPRoute" not in kinds_under(manifests, PREFIX)


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (
            lambda d: d["ingress"].update(
                tlsSecret=None,
                servers=[
                    {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*"]}
                ],
            ),
            "ingress",
            "servers are Istio Gateway servers: with api gateway-api set tlsSecret",
        ),
        (
            lambda d: d["services"][0].update(
                versions=[{"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}]
            ),
            "services[0].versions",
            "routes to the Service, not to its versions",
        ),
        (
            lambda d: d["services"][0].update(
                fault={"percent": 5, "abort": 503, "header": "x-fault"}
            ),
            "services[0].fault",
            "fault injection has no Gateway API HTTPRoute equivalent at the ingress",
        ),
    ],
    ids=["istio-servers", "weighted-versions", "fault"],
)
def test_what_an_httproute_cannot_carry_is_refused_with_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, field: str, reason: str
) -> None:
    data = gateway_api_dev()
    assert data["services"][0]["ingress"] == {"path": "/"}  # frontend, exposed
    edit(data)
    if data["ingress"].get("tlsSecret", "") is None:
        del data["ingress"]["tlsSecret"]
    envs = write_envs(tmp_path / "envs", dev=data)
    code = cli.main(["synth", "--environments", str(envs), "--dist", str(tmp_path / "dist")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{field}" in err and reason in err, err
    assert not (tmp_path / "dist").exists()


def test_the_out_of_band_crd_version_is_the_packaged_one() -> None:
    """One version of Gateway API everywhere: the packaged CRDs (validate's schemas, the local
    control plane's), scripts/fetch_crds.py's pin, and what the generated docs ask for."""
    packaged = REPO / "charts_py" / "crds" / "gateway-api"
    for crd in packaged.glob("*/*.yaml"):
        annotations = yaml.safe_load(crd.read_text())["metadata"]["annotations"]
        assert annotations[f"{GATEWAY_API}/bundle-version"] == installation.GATEWAY_API_CRDS
    fetch = (REPO / "scripts" / "fetch_crds.py").read_text()
    pin = f'path="sigs.k8s.io/gateway-api",\n    version="{installation.GATEWAY_API_CRDS}"'
    assert pin in fetch
    readme = (REPO / "dist" / "staging" / "README.md").read_text()
    assert f"experimental channel {installation.GATEWAY_API_CRDS} or later" in readme


def test_a_team_service_is_routed_from_its_own_namespace(tmp_path: Path) -> None:
    """prod with teams: search's `indexer` exposed too. Its HTTPRoute lives in `search` (a
    backendRef to another namespace would need a ReferenceGrant), the HTTPS listeners admit
    both namespaces' routes, the team's AppProject admits HTTPRoutes, and validate (Argo CD's
    project permissions included) finds no error."""
    envs = tmp_path / "envs"
    shutil.copytree(REPO / "environments", envs)
    prod = yaml.safe_load((envs / "prod.yaml").read_text())
    prod["ingress"]["api"] = "gateway-api"
    (envs / "prod.yaml").write_text(yaml.safe_dump(prod, sort_keys=False))
    search = yaml.safe_load((envs / "prod" / "search.yaml").read_text())
    search["namespaces"][0]["services"][1]["ingress"] = {"path": "/search"}
    (envs / "prod" / "search.yaml").write_text(yaml.safe_dump(search, sort_keys=False))
    loaded = list(environment.load_all(envs).values())
    manifests = synth.manifests(loaded, loaded)
    route = find(manifests, "prod/prod-east", "HTTPRoute", "ingress-indexer", "search")
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "indexer"
    gateway = find(manifests, "prod/prod-east", "Gateway", "ingress", naming.MESH_ROOT)
    selector = gateway["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["selector"]
    assert selector == {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["search", "shop"]}
        ]
    }
    project = find(manifests, "_bootstrap/argocd", "AppProject", "meshops-search", "argocd")
    assert {"group": GATEWAY_API, "kind": "HTTPRoute"} in project["spec"][
        "namespaceResourceWhitelist"
    ]
    dist = tmp_path / "dist"
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(dist)]) == 0
    code = cli.main(["validate", "--environments", str(envs), "--dist", str(dist), "--no-istioctl"])
    assert code == 0
