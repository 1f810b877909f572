"""Istio's charts, rendered by helm itself with the values meshops generates.

This is what Argo CD's repo server does with each control-plane Application (`helm template`
with `valuesObject`), run against the pinned charts (scripts/fetch_istio_charts.py) with the
pinned helm (scripts/tools.py). It proves what the values only promise: the gateway pods
carry the labels our Gateways select and get injected by the revision they name, istiod's mesh
config defines the Telemetry's providers, and the PDBs and HPAs follow the profile.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py.config import environment, installation
from charts_py.render.manifest import Manifest
from charts_py.validate.scope import selects
from tests import tools
from tests.conftest import SAMPLE_ENVIRONMENTS, find
from tests.unit.test_istio_values import chart_values, release_dir

CLUSTERS = {"dev": "dev-1", "staging": "staging-1", "prod": "prod-east"}
AMBIENT_CLUSTER = "ambient-1"
"""The sample environment with ambient namespaces: its control plane adds istio-cni, ztunnel."""


@functools.cache
def helm() -> str:
    """The pinned helm (scripts/tools.py builds it; $MESHOPS_HELM names another)."""
    return str(tools.pinned("helm"))


def template(app: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    """`helm template` of one Application's chart source, as Argo CD would render it."""
    source = app["spec"]["source"]
    chart = release_dir(source["targetRevision"]) / source["chart"]
    values = tmp_path / f"{app['metadata']['name']}.json"
    values.write_text(json.dumps(source["helm"]["valuesObject"]))
    namespace = app["spec"]["destination"]["namespace"]
    command = [helm(), "template", source["helm"]["releaseName"], str(chart)]
    command += ["--namespace", namespace, "--kube-version", "1.34.0", "--values", str(values)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, f"{app['metadata']['name']}: {done.stderr}"
    return [d for d in yaml.safe_load_all(done.stdout) if d]


Charts = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def charts(rendered: list[Manifest], tmp_path_factory: pytest.TempPathFactory) -> Charts:
    """Rendered charts per cluster, each cluster rendered once (helm takes ~1 s a chart)."""
    folder = tmp_path_factory.mktemp("helm")
    return functools.cache(lambda cluster: rendered_charts(rendered, cluster, folder))


def rendered_charts(rendered: list[Manifest], cluster: str, tmp_path: Path) -> dict[str, Any]:
    """Objects per Helm release of the cluster's control plane, by (kind, name)."""
    out: dict[str, Any] = {}
    for m in rendered:
        obj = m.obj
        if m.chart != "control-plane" or obj["kind"] != "Application":
            continue
        if obj["spec"]["destination"]["name"] == cluster:
            release = obj["spec"]["source"]["helm"]["releaseName"]
            docs = template(obj, tmp_path)
            out[release] = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    return out


def pods_of(objects: dict[Any, Any]) -> dict[str, str]:
    [deployment] = [o for (kind, _), o in objects.items() if kind == "Deployment"]
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def injects(webhooks: list[dict[str, Any]], ns: dict[str, str], pod: dict[str, str]) -> bool:
    """Whether one of istiod's injection webhooks admits a pod (its selectors, as the API
    server evaluates them)."""
    return any(
        selects(w["namespaceSelector"], ns) and selects(w["objectSelector"], pod) for w in webhooks
    )


@pytest.mark.parametrize("env", sorted(CLUSTERS))
def test_gateway_pods_match_our_gateways_and_are_injected_by_their_revision(
    rendered: list[Manifest], charts: Charts, env: str
) -> None:
    cluster = CLUSTERS[env]
    releases = charts(cluster)
    istiods = {r: o for r, o in releases.items() if r.startswith("istiod-")}
    [(istiod_release, istiod)] = istiods.items()
    revision = istiod_release.removeprefix("istiod-")
    [webhook] = [o for (k, _), o in istiod.items() if k == "MutatingWebhookConfiguration"]
    root = find(rendered, f"{env}/{cluster}", "Namespace", "istio-system")["metadata"]["labels"]
    gateways = [m.obj for m in rendered if m.path.startswith(f"{env}/{cluster}/")]
    istio_gateways = (
        o for o in gateways if o["kind"] == "Gateway" and o["apiVersion"].startswith("networking.")
    )  # Gateway API's select no pods: istiod deploys them
    pod = {"istio.io/rev": revision}  # a gateway pod's, where no Helm gateway is (staging)
    for gateway in istio_gateways:
        selector = gateway["spec"]["selector"]
        matched = [
            r
            for r, o in releases.items()
            if "gateway" in r
            if selector.items() <= pods_of(o).items()
        ]
        assert len(matched) == 1, f"{gateway['metadata']['name']}: {selector} -> {matched}"
        pod = pods_of(releases[matched[0]])
        assert pod["istio.io/rev"] == revision
        assert injects(
            webhook["webhooks"], {**root, "kubernetes.io/metadata.name": "istio-system"}, pod
        )
    shop = find(rendered, f"{env}/{cluster}", "Namespace", "shop")["metadata"]["labels"]
    assert injects(webhook["webhooks"], shop, {"app": "cart"})
    # The old layout (istio-injection: disabled on istio-system) would leave gateways bare.
    assert not injects(webhook["webhooks"], {"istio-injection": "disabled"}, pod)


def test_ingress_account_and_egress_service_are_what_policy_names(
    rendered: list[Manifest], charts: Charts
) -> None:
    releases = charts("prod-east")
    ingress = releases["istio-ingressgateway"]
    assert ("ServiceAccount", "istio-ingressgateway-service-account") in ingress
    frontend = find(rendered, "prod/prod-east", "AuthorizationPolicy", "frontend")["spec"]
    assert frontend["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
    ]
    egress = releases["istio-egressgateway"][("Service", "istio-egressgateway")]
    assert egress["spec"]["type"] == "ClusterIP"
    eastwest = releases["istio-eastwestgateway"]
    assert pods_of(eastwest)["topology.istio.io/network"] == "net-east"
    ports = {p["port"] for p in eastwest[("Service", "istio-eastwestgateway")]["spec"]["ports"]}
    assert {15443, 15012, 15017} <= ports
    assert ("PodDisruptionBudget", "istio-ingressgateway") in ingress


@pytest.mark.parametrize(("env", "pdb"), [("dev", None), ("staging", 1), ("prod", 2)])
def test_istiod_mesh_config_and_disruption_budget(
    rendered: list[Manifest], charts: Charts, env: str, pdb: int | None
) -> None:
    cluster = CLUSTERS[env]
    releases = charts(cluster)
    [(release, istiod)] = [(r, o) for r, o in releases.items() if r.startswith("istiod-")]
    revision = release.removeprefix("istiod-")
    assert ("Deployment", f"istiod-{revision}") in istiod
    budgets = [o for (k, _), o in istiod.items() if k == "PodDisruptionBudget"]
    assert [b["spec"]["minAvailable"] for b in budgets] == ([pdb] if pdb else [])
    mesh = yaml.safe_load(istiod[("ConfigMap", f"istio-{revision}")]["data"]["mesh"])
    telemetry = find(rendered, f"{env}/{cluster}", "Telemetry", "mesh-default")["spec"]
    named = {
        p["name"]
        for s in ("tracing", "accessLogging")
        for e in telemetry[s]
        for p in e["providers"]
    }
    assert named <= {p["name"] for p in mesh["extensionProviders"]}
    assert mesh["trustDomain"] == "cluster.local"
    values = yaml.safe_load(istiod[("ConfigMap", f"values-{revision}")]["data"]["merged-values"])
    assert values["global"]["meshID"] == env
    assert values["global"]["multiCluster"]["clusterName"] == cluster
    base = releases["istio-base"][("ValidatingWebhookConfiguration", "istiod-default-validator")]
    assert base["webhooks"][0]["clientConfig"]["service"]["name"] == f"istiod-{revision}"


def test_the_app_project_admits_every_kind_the_charts_render(
    rendered: list[Manifest], charts: Charts
) -> None:
    project = next(
        m.obj["spec"]
        for m in rendered
        if m.obj["kind"] == "AppProject" and m.obj["metadata"]["name"] == "meshops-control-plane"
    )
    allowed = {
        (k["group"], k["kind"], scope)
        for scope, field in (
            (False, "clusterResourceWhitelist"),
            (True, "namespaceResourceWhitelist"),
        )
        for k in project[field]
    }
    found = {
        (obj["apiVersion"].rpartition("/")[0], obj["kind"], "namespace" in obj["metadata"])
        for cluster in (*CLUSTERS.values(), AMBIENT_CLUSTER)
        for objects in charts(cluster).values()
        for obj in objects.values()
    }
    assert len(found) >= 12
    assert ("apps", "DaemonSet", True) in found  # istio-cni's and ztunnel's
    assert found <= allowed, found - allowed


INSTALLATIONS = [
    i
    for env in environment.load_all(SAMPLE_ENVIRONMENTS).values()
    for i in installation.of_environment(env)
]


def service_ports(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(name, port, targetPort) of a Service; Kubernetes defaults targetPort to the port."""
    ports = service["spec"]["ports"]
    return [(p["name"], p["port"], p.get("targetPort", p["port"])) for p in ports]


@pytest.mark.parametrize("installed", INSTALLATIONS, ids=lambda i: i.cluster)
def test_the_charts_render_each_clusters_installation_as_declared(
    charts: Charts, installed: installation.Installation
) -> None:
    """config/installation.py says which gateways and Services each cluster has, with which
    ports, labels and accounts; Istio's charts rendered with our values must agree."""
    releases = charts(installed.cluster)
    gateways = {r for r, objects in releases.items() if ("Deployment", r) in objects}
    gateways -= {f"istiod-{i.revision}" for i in installed.istiods}
    assert gateways == {g.release for g in installed.gateways}
    for gateway in installed.gateways:
        objects = releases[gateway.release]
        service = objects[("Service", gateway.release)]
        assert service_ports(service) == [(p.name, p.port, p.target_port) for p in gateway.ports]
        assert service["spec"]["type"] == gateway.service_type
        assert service["spec"]["selector"] == gateway.service_selector
        assert gateway.pod_labels.items() <= pods_of(objects).items()
        assert ("ServiceAccount", gateway.service_account) in objects
    agents = {r for r, objects in releases.items() if any(k == "DaemonSet" for k, _ in objects)}
    assert agents == {a.release for a in installed.node_agents}
    for agent in installed.node_agents:
        daemon_set = releases[agent.release][("DaemonSet", agent.daemon_set)]
        assert daemon_set["spec"]["selector"]["matchLabels"] == agent.pod_labels
    for istiod in installed.istiods:
        service = releases[f"istiod-{istiod.revision}"][("Service", istiod.service)]
        assert service_ports(service) == [
            (p.name, p.port, p.target_port) for p in installation.ISTIOD_PORTS
        ]
        assert service["spec"]["selector"] == istiod.selector


def test_validates_model_of_gateway_pod_labels_is_the_charts(
    rendered: list[Manifest], charts: Charts
) -> None:
    """For manifests of no declared cluster, gateway-workload-exists predicts pod labels from
    a gateway Application's values; helm has the last word."""
    from charts_py.validate import documents
    from charts_py.validate.rules import control_plane
    from charts_py.validate.scope import Scope

    apps = [(m.path, m.obj) for m in rendered if m.chart == "control-plane"]
    scope = Scope(name="", environment="", docs=documents.from_objects(apps))
    predicted = {
        (r.doc.obj["spec"]["destination"]["name"], r.release): control_plane._gateway_pod_labels(r)
        for r in control_plane.helm_releases(scope, "gateway")
    }
    # ingress in dev and prod x2 (staging's and ambient's are Gateway API's, deployed by
    # istiod); egress and east-west in prod x2
    assert len(predicted) == 7
    for (cluster, release), labels in predicted.items():
        actual = pods_of(charts(cluster)[release])
        assert labels.items() <= actual.items(), (cluster, release)


def container_env(workload: dict[str, Any]) -> dict[str, str]:
    """The first container's environment variables with a plain value."""
    container = workload["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_the_ambient_charts_run_ambient_and_ztunnel_reaches_its_istiod(
    rendered: list[Manifest], charts: Charts
) -> None:
    """What `profile: ambient` and ztunnel's values do once helm renders them: istiod serves
    ambient, istio-cni redirects, ztunnel asks the installed istiod for its certificates with
    istiod's cluster identity, and meshops's PodMonitor scrapes ztunnel's pods."""
    [installed] = [i for i in INSTALLATIONS if i.cluster == AMBIENT_CLUSTER]
    releases = charts(AMBIENT_CLUSTER)
    [istiod] = installed.istiods
    discovery = releases[f"istiod-{istiod.revision}"]
    assert (
        container_env(discovery[("Deployment", istiod.service)])["PILOT_ENABLE_AMBIENT"] == "true"
    )
    cni = releases[installation.ISTIO_CNI.release][("ConfigMap", "istio-cni-config")]
    assert cni["data"]["AMBIENT_ENABLED"] == "true"
    ztunnel = releases[installation.ZTUNNEL.release][("DaemonSet", installation.ZTUNNEL.daemon_set)]
    env = container_env(ztunnel)
    assert env["CA_ADDRESS"] == env["XDS_ADDRESS"] == f"{istiod.service}.istio-system.svc:15012"
    values = yaml.safe_load(
        discovery[("ConfigMap", f"values-{istiod.revision}")]["data"]["merged-values"]
    )
    assert env["ISTIO_META_CLUSTER_ID"] == values["global"]["multiCluster"]["clusterName"]
    assert env["NETWORK"] == values["global"]["network"]
    for agent in installed.node_agents:  # what the cost report prices them at
        daemon_set = releases[agent.release][("DaemonSet", agent.daemon_set)]
        [container] = daemon_set["spec"]["template"]["spec"]["containers"]
        assert container["resources"]["requests"] == agent.requests.model_dump()
    waypoint = chart_values(istiod.version, "istiod")["global"]["waypoint"]["resources"]
    assert waypoint["requests"] == installation.WAYPOINT_REQUESTS.model_dump()
    monitor = find(rendered, f"ambient/{AMBIENT_CLUSTER}", "PodMonitor", "ztunnel")
    pods = ztunnel["spec"]["template"]
    assert monitor["metadata"]["namespace"] == "istio-system"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pods["metadata"]["labels"].items()
    ports = {p["name"] for c in pods["spec"]["containers"] for p in c.get("ports", [])}
    assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} <= ports


def test_a_sidecar_clusters_istiod_does_not_serve_ambient(charts: Charts) -> None:
    releases = charts(CLUSTERS["prod"])
    [(release, istiod)] = [(r, o) for r, o in releases.items() if r.startswith("istiod-")]
    deployment = istiod[("Deployment", release)]
    assert container_env(deployment).get("PILOT_ENABLE_AMBIENT", "false") == "false"
    assert not {installation.ISTIO_CNI.release, installation.ZTUNNEL.release} & set(releases)
