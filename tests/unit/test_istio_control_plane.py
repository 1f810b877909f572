"""The Istio control plane per cluster: Applications, values per profile, revisions, providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charts_py import contract
from charts_py.config import environment, releases
from charts_py.config.environment import Environment
from charts_py.errors import ConfigError
from charts_py.render import synth
from charts_py.render.manifest import Manifest
from charts_py.validate import targets
from tests.conftest import find, sample, write_envs

CLUSTERS = {"dev": ["dev-1"], "staging": ["staging-1"], "prod": ["prod-east", "prod-west"]}
REVISION = releases.CURRENT.revision


def apps(manifests: list[Manifest], cluster: str) -> dict[str, dict[str, Any]]:
    """The control-plane Applications installing into `cluster`, by Helm release name."""
    return {
        m.obj["spec"]["source"]["helm"]["releaseName"]: m.obj
        for m in manifests
        if m.chart == "control-plane"
        and m.obj["kind"] == "Application"
        and m.obj["spec"]["destination"]["name"] == cluster
    }


def values(app: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = app["spec"]["source"]["helm"]["valuesObject"]
    return found


def load(tmp_path: Path, **envs: dict[str, Any]) -> dict[str, Environment]:
    return environment.load_all(write_envs(tmp_path / "environments", **envs))


def render(tmp_path: Path, **envs: dict[str, Any]) -> list[Manifest]:
    loaded = list(load(tmp_path, **envs).values())
    return synth.manifests(loaded, loaded)


def prod_only(tmp_path: Path) -> dict[str, Environment]:
    """The prod environment as rendered (its file was written by `render`)."""
    return {"prod": environment.load(tmp_path / "environments" / "prod.yaml")}


@pytest.mark.parametrize(
    ("env", "releases_expected"),
    [
        ("dev", {"istio-base", f"istiod-{REVISION}", "istio-ingressgateway"}),
        # Gateway API ingress (`ingress.api: gateway-api`): istiod deploys it, no Helm gateway
        ("staging", {"istio-base", f"istiod-{REVISION}"}),
        (
            "prod",
            {
                "istio-base",
                f"istiod-{REVISION}",
                "istio-ingressgateway",
                "istio-egressgateway",
                "istio-eastwestgateway",
            },
        ),
    ],
)
def test_each_cluster_gets_its_control_plane_in_argocds_namespace(
    rendered: list[Manifest], env: str, releases_expected: set[str]
) -> None:
    for cluster in CLUSTERS[env]:
        found = apps(rendered, cluster)
        assert set(found) == releases_expected
        for release, app in found.items():
            meta = app["metadata"]
            assert meta["namespace"] == "argocd"
            assert meta["name"] == f"{cluster}-{release}"
            assert meta["labels"][contract.ENVIRONMENT] == env
            assert app["spec"]["destination"] == {"name": cluster, "namespace": "istio-system"}
            assert app["spec"]["project"] == "meshops-control-plane"
            source = app["spec"]["source"]
            assert source["repoURL"] == releases.CHART_REPOSITORY
            assert source["targetRevision"] == releases.CURRENT.version


def test_control_plane_sits_in_the_bootstrap_and_syncs_in_order(rendered: list[Manifest]) -> None:
    east = apps(rendered, "prod-east")
    paths = {m.path for m in rendered if m.chart == "control-plane"}
    assert all(p.startswith(f"{contract.BOOTSTRAP_DIR}/control-plane/") for p in paths)
    wave = {
        r: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for r, a in east.items()
    }
    application_set = next(m.obj for m in rendered if m.obj["kind"] == "ApplicationSet")
    mesh_config = int(application_set["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert wave["istio-base"] < wave[f"istiod-{REVISION}"] < wave["istio-ingressgateway"]
    assert wave["istio-ingressgateway"] < mesh_config
    # Removing a revision deletes its istiod; removing base must never delete the CRDs.
    assert "finalizers" not in east["istio-base"]["metadata"]
    assert east[f"istiod-{REVISION}"]["metadata"]["finalizers"] == [
        "resources-finalizer.argocd.argoproj.io"
    ]
    assert "CreateNamespace=true" in east["istio-base"]["spec"]["syncPolicy"]["syncOptions"]


def test_the_project_allows_the_chart_repository_and_every_cluster(
    rendered: list[Manifest],
) -> None:
    project = next(
        m.obj
        for m in rendered
        if m.obj["kind"] == "AppProject" and m.obj["metadata"]["name"] == "meshops-control-plane"
    )["spec"]
    assert project["sourceRepos"] == [releases.CHART_REPOSITORY]
    assert {d["name"] for d in project["destinations"]} == {
        c for cs in CLUSTERS.values() for c in cs
    } | {"ambient-1"}
    assert {d["namespace"] for d in project["destinations"]} == {"istio-system"}
    cluster_kinds = {k["kind"] for k in project["clusterResourceWhitelist"]}
    assert {"CustomResourceDefinition", "MutatingWebhookConfiguration"} <= cluster_kinds
    namespaced = {k["kind"] for k in project["namespaceResourceWhitelist"]}
    assert {"Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Role"} <= namespaced
    assert "Secret" not in namespaced


@pytest.mark.parametrize(
    ("env", "outbound", "replicas", "pdb"),
    [
        ("dev", "ALLOW_ANY", (1, 2), None),
        ("staging", "REGISTRY_ONLY", (2, 4), 1),
        ("prod", "REGISTRY_ONLY", (3, 8), 2),
    ],
)
def test_istiod_values_follow_the_profile(
    rendered: list[Manifest], env: str, outbound: str, replicas: tuple[int, int], pdb: int | None
) -> None:
    istiod = values(apps(rendered, CLUSTERS[env][0])[f"istiod-{REVISION}"])
    assert istiod["revision"] == REVISION
    assert istiod["meshConfig"]["outboundTrafficPolicy"] == {"mode": outbound}
    assert (istiod["autoscaleMin"], istiod["autoscaleMax"]) == replicas
    assert istiod["global"]["defaultPodDisruptionBudget"] == {"enabled": pdb is not None}
    assert istiod.get("pdb") == ({"minAvailable": pdb} if pdb else None)
    helm_gateway = apps(rendered, CLUSTERS[env][0]).get("istio-ingressgateway")
    if helm_gateway is None:  # a Gateway API ingress (staging): istiod deploys it
        return
    gateway = values(helm_gateway)
    assert ("podDisruptionBudget" in gateway) == (pdb is not None)


def test_multi_primary_values_agree_where_they_must(rendered: list[Manifest]) -> None:
    east, west = (values(apps(rendered, c)[f"istiod-{REVISION}"]) for c in CLUSTERS["prod"])
    assert east["global"]["meshID"] == west["global"]["meshID"] == "prod"
    assert east["meshConfig"] == west["meshConfig"]
    assert east["meshConfig"]["trustDomain"] == "cluster.local"
    assert east["global"]["multiCluster"]["clusterName"] == "prod-east"
    assert west["global"]["multiCluster"]["clusterName"] == "prod-west"
    assert (east["global"]["network"], west["global"]["network"]) == ("net-east", "net-west")
    for cluster, network in (("prod-east", "net-east"), ("prod-west", "net-west")):
        eastwest = values(apps(rendered, cluster)["istio-eastwestgateway"])
        assert eastwest["networkGateway"] == network
        labels = find(rendered, f"prod/{cluster}", "Namespace", "istio-system")["metadata"][
            "labels"
        ]
        assert labels["topology.istio.io/network"] == network


def test_gateway_pods_carry_the_labels_our_gateways_select(rendered: list[Manifest]) -> None:
    checked = []
    for cluster in (c for cs in CLUSTERS.values() for c in cs):
        pod_labels = [values(a).get("labels", {}) for a in apps(rendered, cluster).values()]
        gateways = [
            m.obj
            for m in rendered
            if f"/{cluster}/" in f"/{m.path}"
            and m.obj["kind"] == "Gateway"
            and m.obj["apiVersion"].startswith("networking.istio.io/")  # Istio's select pods
        ]
        if not gateways:
            continue  # a Gateway API ingress: istiod deploys its pods (staging)
        checked.append(cluster)
        for gateway in gateways:
            selector = gateway["spec"]["selector"]
            matching = [p for p in pod_labels if selector.items() <= p.items()]
            assert len(matching) == 1, f"{cluster} {gateway['metadata']['name']}: {selector}"
    assert checked == ["dev-1", "prod-east", "prod-west"]


def test_the_telemetry_names_providers_the_mesh_config_defines(rendered: list[Manifest]) -> None:
    for env, clusters in CLUSTERS.items():
        telemetry = find(rendered, f"{env}/{clusters[0]}", "Telemetry", "mesh-default")["spec"]
        mesh = values(apps(rendered, clusters[0])[f"istiod-{REVISION}"])["meshConfig"]
        defined = {p["name"] for p in mesh["extensionProviders"]}
        [tracing] = telemetry["tracing"]
        assert tracing["providers"] == [{"name": "opentelemetry"}]
        assert mesh["defaultProviders"]["tracing"] == ["opentelemetry"]
        named = {p["name"] for e in telemetry["accessLogging"] for p in e["providers"]}
        assert {"opentelemetry"} | named <= defined
        [otel] = [p for p in mesh["extensionProviders"] if p["name"] == "opentelemetry"]
        assert otel["opentelemetry"] == {
            "service": "opentelemetry-collector.observability.svc.cluster.local",
            "port": 4317,
        }


def test_without_tracing_the_telemetry_names_no_tracer(tmp_path: Path) -> None:
    dev = sample("dev")
    dev["mesh"] = {"tracing": None}
    manifests = render(tmp_path, dev=dev)
    telemetry = find(manifests, "dev/dev-1", "Telemetry", "mesh-default")["spec"]
    assert "tracing" not in telemetry
    mesh = values(apps(manifests, "dev-1")[f"istiod-{REVISION}"])["meshConfig"]
    assert "tracing" not in mesh["defaultProviders"]


def canary(revision: str, gateway_revision: str | None = None) -> dict[str, Any]:
    prod = sample("prod")
    current = releases.CURRENT
    prod["mesh"] = {
        "revisions": [
            {"name": REVISION, "version": current.version},
            {"name": "canary", "version": current.version},
        ],
        "revision": revision,
    }
    if gateway_revision:
        prod["mesh"]["gatewayRevision"] = gateway_revision
    return prod


def test_a_second_revision_renders_a_second_istiod_beside_the_first(tmp_path: Path) -> None:
    manifests = render(tmp_path, prod=canary("canary", gateway_revision=REVISION))
    for cluster in CLUSTERS["prod"]:
        found = apps(manifests, cluster)
        assert {f"istiod-{REVISION}", "istiod-canary"} <= set(found)
        assert values(found["istiod-canary"])["revision"] == "canary"
        assert (
            values(found["istiod-canary"])["meshConfig"]
            == values(found[f"istiod-{REVISION}"])["meshConfig"]
        )
        assert values(found["istio-base"]) == {"defaultRevision": "canary"}
        assert {values(found[g])["revision"] for g in found if "gateway" in g} == {REVISION}
        labels = find(manifests, f"prod/{cluster}", "Namespace", "shop")["metadata"]["labels"]
        assert labels["istio.io/rev"] == "canary"
        assert "istio-injection" not in labels
    report = targets.run(
        targets.for_rendered(((m.path, m.obj) for m in manifests), prod_only(tmp_path), "")
    )
    assert [f.rule for f in report.errors] == []


@pytest.mark.parametrize(
    ("mesh", "field", "reason"),
    [
        (
            {"revisions": [{"name": "a", "version": "1.31.4"}, {"name": "b", "version": "1.31.4"}]},
            "mesh.revision",
            "say which of ['a', 'b'] namespaces and gateways use",
        ),
        ({"revision": "1-99"}, "mesh.revision", "'1-99' is not a declared revision (['1-31'])"),
        ({"gatewayRevision": "old"}, "mesh.gatewayRevision", "'old' is not a declared revision"),
        (
            {"revisions": [{"name": "x", "version": "1.99.0"}]},
            "mesh.revisions[0].version",
            "Istio 1.99.0 is not in charts_py/config/releases.py",
        ),
        (
            {"revisions": [{"name": "x", "version": "1.31.4"}, {"name": "x", "version": "1.31.4"}]},
            "mesh.revisions[1].name",
            "duplicate revision (first at mesh.revisions[0])",
        ),
        (
            {"tracing": {"provider": "opentelemetry", "endpoint": "collector"}},
            "mesh.tracing.endpoint",
            "",
        ),
    ],
)
def test_inconsistent_revisions_are_config_errors(
    tmp_path: Path, mesh: dict[str, Any], field: str, reason: str
) -> None:
    prod = sample("prod")
    prod["mesh"] = mesh
    with pytest.raises(ConfigError) as caught:
        environment.load_all(write_envs(tmp_path, prod=prod))
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_validate_refuses_removing_a_revision_still_in_use(tmp_path: Path) -> None:
    """What git would hold if someone deleted the old istiod's Application by hand."""
    manifests = render(tmp_path, prod=canary("canary", gateway_revision=REVISION))
    kept = [
        (m.path, m.obj)
        for m in manifests
        if not m.obj["metadata"]["name"].endswith(f"istiod-{REVISION}")
    ]
    report = targets.run(targets.for_rendered(kept, prod_only(tmp_path), ""))
    failed = {(f.rule, f.obj.ref.kind, f.obj.ref.name) for f in report.errors}
    assert failed == {
        ("revision-exists", "Application", f"{c}-{g}")
        for c in CLUSTERS["prod"]
        for g in ("istio-ingressgateway", "istio-egressgateway", "istio-eastwestgateway")
    }


def test_an_ambient_cluster_installs_istio_cni_and_ztunnel_beside_an_ambient_istiod(
    rendered: list[Manifest],
) -> None:
    """Istio's ambient Helm install: istiod and istio-cni with `profile: ambient`, ztunnel of
    istiod's revision and cluster identity; waves put them before the mesh configuration."""
    found = apps(rendered, "ambient-1")
    istiod = f"istiod-{REVISION}"
    assert set(found) == {"istio-base", istiod, "istio-cni", "ztunnel"}
    assert values(found[istiod])["profile"] == "ambient"
    assert values(found["istio-cni"]) == {"profile": "ambient"}
    assert values(found["ztunnel"]) == {
        "revision": REVISION,
        "multiCluster": {"clusterName": "ambient-1"},
        "network": values(found[istiod])["global"]["network"],
    }
    assert (
        found["istio-cni"]["spec"]["source"]["chart"],
        found["ztunnel"]["spec"]["source"]["chart"],
    ) == ("cni", "ztunnel")
    wave = {
        r: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for r, a in found.items()
    }
    application_set = next(m.obj for m in rendered if m.obj["kind"] == "ApplicationSet")
    mesh_config = int(application_set["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert wave["istio-base"] < wave[istiod] < wave["ztunnel"] < mesh_config
    assert wave["istio-base"] < wave["istio-cni"] < mesh_config
    for agent in ("istio-cni", "ztunnel"):  # no webhooks; removed with the last ambient namespace
        assert "ignoreDifferences" not in found[agent]["spec"]
        assert found[agent]["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    for cluster in (c for cs in CLUSTERS.values() for c in cs):  # sidecars only: as before
        assert "profile" not in values(apps(rendered, cluster)[istiod])


def project_kinds(manifests: list[Manifest]) -> set[str]:
    project = next(
        m.obj for m in manifests if m.obj["kind"] == "AppProject" and m.chart == "control-plane"
    )
    return {k["kind"] for k in project["spec"]["namespaceResourceWhitelist"]}


def test_one_ambient_namespace_brings_the_node_agents_and_their_kind(tmp_path: Path) -> None:
    """A sidecar environment with one namespace moved (`dataplane: ambient` on its block)
    installs them too; without it, neither the Applications nor DaemonSet in the project."""
    dev = sample("dev")
    before = render(tmp_path / "before", dev=dev)
    assert set(apps(before, "dev-1")) == {
        "istio-base",
        f"istiod-{REVISION}",
        "istio-ingressgateway",
    }
    assert "DaemonSet" not in project_kinds(before)
    dev["namespaces"] = [
        {
            "name": "moved",
            "dataplane": "ambient",
            "services": [
                {
                    "name": "api",
                    "image": "registry.example.com/api:1.0.0",
                    "retries": {"attempts": 2, "perTryTimeout": "1s", "retryOn": "5xx"},
                }
            ],
        }
    ]
    after = render(tmp_path / "after", dev=dev)
    assert {"istio-cni", "ztunnel"} <= set(apps(after, "dev-1"))
    assert values(apps(after, "dev-1")[f"istiod-{REVISION}"])["profile"] == "ambient"
    assert "DaemonSet" in project_kinds(after)
