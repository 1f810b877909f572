"""Each cluster's Istio installation is declared once (config/installation.py), and the Helm
values, naming and validate read that one declaration."""

from __future__ import annotations

from typing import Any

import pytest

from charts_py import contract, naming
from charts_py.config import environment, installation
from charts_py.render.manifest import Manifest
from charts_py.validate import documents, engine, targets
from tests.conftest import REPO, SAMPLE_ENVIRONMENTS

ENVS = environment.load_all(SAMPLE_ENVIRONMENTS)


def releases_installed(rendered: list[Manifest]) -> dict[str, set[str]]:
    """Gateway releases per cluster, as the control-plane Applications install them."""
    out: dict[str, set[str]] = {}
    for m in rendered:
        source = m.obj["spec"].get("source", {}) if m.obj["kind"] == "Application" else {}
        if m.chart == "control-plane" and source.get("chart") == "gateway":
            cluster = m.obj["spec"]["destination"]["name"]
            out.setdefault(cluster, set()).add(source["helm"]["releaseName"])
    return out


def test_the_helm_values_install_exactly_the_declared_gateways(rendered: list[Manifest]) -> None:
    declared = {
        i.cluster: {g.release for g in i.gateways}
        for env in ENVS.values()
        for i in installation.of_environment(env)
    }
    assert releases_installed(rendered) == {c: found for c, found in declared.items() if found}
    ingress_only = {"istio-ingressgateway"}
    assert declared["dev-1"] == ingress_only
    # Gateway API ingress (staging, ambient): istiod deploys the Gateway's pods, no Helm release
    assert declared["staging-1"] == declared["ambient-1"] == set()
    assert declared["prod-east"] == {
        "istio-ingressgateway",
        "istio-egressgateway",
        "istio-eastwestgateway",
    }


def test_gateway_values_carry_the_models_labels_and_account(rendered: list[Manifest]) -> None:
    for m in rendered:
        source = m.obj["spec"].get("source", {}) if m.obj["kind"] == "Application" else {}
        if source.get("chart") != "gateway":
            continue
        env = ENVS[m.obj["metadata"]["labels"][contract.ENVIRONMENT]]
        cluster = next(
            c for c in env.spec.clusters if c.name == m.obj["spec"]["destination"]["name"]
        )
        installed = installation.of_cluster(env, cluster).gateways
        [gateway] = [g for g in installed if g.release == source["helm"]["releaseName"]]
        values = source["helm"]["valuesObject"]
        assert values["labels"] == gateway.labels
        assert values["serviceAccount"] == {"name": gateway.service_account}
        assert values["service"]["type"] == gateway.service_type


def test_naming_reads_the_installation() -> None:
    assert naming.INGRESS_GATEWAY_SELECTOR.items() <= installation.INGRESS.pod_labels.items()
    assert naming.EGRESS_GATEWAY_HOST == "istio-egressgateway.istio-system.svc.cluster.local"
    east = installation.east_west("net-east")
    assert naming.EASTWEST_GATEWAY_SELECTOR.items() <= east.pod_labels.items()
    assert east.pod_labels[naming.NETWORK_LABEL] == "net-east"


def test_remote_secrets_are_those_of_the_other_clusters() -> None:
    prod = ENVS["prod"]
    east = installation.of_cluster(prod, prod.spec.clusters[0])
    assert [s.name for s in east.secrets] == [
        prod.spec.ingress.tls_secret,
        "istio-remote-secret-prod-west",
    ]
    dev = ENVS["dev"]
    assert [s.name for s in installation.of_cluster(dev, dev.spec.clusters[0]).secrets] == [
        dev.spec.ingress.tls_secret
    ]


def routed_to_egress(env: str, cluster: str) -> list[tuple[str, dict[str, Any]]]:
    """A VirtualService in `cluster` sending api.stripe.com through the egress gateway."""
    labels = {contract.ENVIRONMENT: env, contract.CLUSTER: cluster}
    meta = {"namespace": "shop", "labels": labels}
    entry = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": "stripe", **meta},
        "spec": {
            "hosts": ["api.stripe.com"],
            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
            "resolution": "DNS",
        },
    }
    route = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "stripe", **meta},
        "spec": {
            "hosts": ["api.stripe.com"],
            "tls": [
                {
                    "match": [{"port": 443, "sniHosts": ["api.stripe.com"]}],
                    "route": [
                        {
                            "destination": {
                                "host": naming.EGRESS_GATEWAY_HOST,
                                "port": {"number": 443},
                            }
                        }
                    ],
                }
            ],
        },
    }
    return [(f"{env}/{cluster}/se.yaml", entry), (f"{env}/{cluster}/vs.yaml", route)]


@pytest.mark.parametrize(
    ("env", "cluster", "resolves"),
    [("dev", "dev-1", False), ("staging", "staging-1", False), ("prod", "prod-east", True)],
)
def test_the_egress_gateway_host_resolves_only_where_one_is_installed(
    env: str, cluster: str, resolves: bool
) -> None:
    docs = documents.from_objects(routed_to_egress(env, cluster))
    report = engine.validate(docs, "prod", installation.of_environment(ENVS[env]))
    unresolved = [f.path for f in report.findings if f.rule == "host-resolves"]
    assert unresolved == ([] if resolves else ["/spec/tls/0/route/0/destination/host"])


def test_manifests_of_no_declared_cluster_assume_istios_usual_gateways() -> None:
    docs = documents.from_objects(routed_to_egress("elsewhere", "c1"))
    report = engine.validate(docs, "prod", installation.of_environment(ENVS["dev"]))
    assert [f for f in report.findings if f.rule == "host-resolves"] == []


def test_gateway_workload_exists_judges_dist_by_the_model() -> None:
    """dist/dev has no egress Gateway; one added by hand selects pods dev-1 does not run."""
    [target] = targets.for_dist(REPO / "dist", SAMPLE_ENVIRONMENTS, ["dev"])
    labels = {contract.ENVIRONMENT: "dev", contract.CLUSTER: "dev-1"}
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "egress", "namespace": "istio-system", "labels": labels},
        "spec": {
            "selector": naming.EGRESS_GATEWAY_SELECTOR,
            "servers": [
                {"port": {"number": 443, "name": "tls", "protocol": "TLS"}, "hosts": ["*"]}
            ],
        },
    }
    docs = [*target.docs, *documents.from_objects([("dev/dev-1/gw.yaml", gateway)])]
    report = engine.validate(docs, target.profile, target.installations)
    failed = [(f.rule, f.obj.ref.name) for f in report.findings if f.rule.startswith("gateway-")]
    assert failed == [("gateway-workload-exists", "egress")]


def ambient_namespace(env: str, cluster: str) -> dict[str, Any]:
    labels = {contract.ENVIRONMENT: env, contract.CLUSTER: cluster}
    labels["istio.io/dataplane-mode"] = "ambient"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "moved", "labels": labels},
    }


@pytest.mark.parametrize(
    ("env", "cluster", "installed"), [("dev", "dev-1", False), ("ambient", "ambient-1", True)]
)
def test_an_ambient_namespace_is_judged_by_the_clusters_declared_node_agents(
    env: str, cluster: str, installed: bool
) -> None:
    """Hand-written manifests (no control-plane Application among them) of a declared
    cluster: dev-1 installs no istio-cni or ztunnel, ambient-1 does (config/installation.py)."""
    docs = documents.from_objects([(f"{env}/{cluster}/ns.yaml", ambient_namespace(env, cluster))])
    report = engine.validate(docs, "prod", installation.of_environment(ENVS[env]))
    found = [f.message for f in report.findings if f.rule == "ambient-installed"]
    if installed:
        assert found == []
    else:
        [message] = found
        assert "dev/dev-1 installs no istio-cni, ztunnel" in message
    assert {a.daemon_set for a in installation.of_environment(ENVS[env])[0].node_agents} == (
        {"istio-cni-node", "ztunnel"} if installed else set()
    )


def test_the_ambient_dist_installs_what_its_namespaces_need() -> None:
    """dist/ambient with its control-plane Applications: the rule passes for shop and search,
    and fails once the ztunnel Application is taken away."""
    [target] = targets.for_dist(REPO / "dist", SAMPLE_ENVIRONMENTS, ["ambient"])
    report = engine.validate(target.docs, target.profile, target.installations)
    assert [f for f in report.findings if f.rule == "ambient-installed"] == []
    kept = [d for d in target.docs if d.obj["metadata"]["name"] != "ambient-1-ztunnel"]
    assert len(kept) == len(target.docs) - 1
    report = engine.validate(kept, target.profile, target.installations)
    failed = sorted(f.obj.ref.name for f in report.findings if f.rule == "ambient-installed")
    assert failed == ["search", "shop"]


@pytest.mark.parametrize(
    ("env", "cluster", "runs"), [("dev", "dev-1", False), ("ambient", "ambient-1", True)]
)
def test_ztunnels_pods_are_out_of_band_pods_where_the_cluster_runs_ambient(
    env: str, cluster: str, runs: bool
) -> None:
    """A Telemetry for ztunnel's pods selects pods ambient-1 runs (its declared node agents),
    and none in dev-1."""
    labels = {contract.ENVIRONMENT: env, contract.CLUSTER: cluster}
    telemetry = {
        "apiVersion": "telemetry.istio.io/v1",
        "kind": "Telemetry",
        "metadata": {"name": "ztunnel", "namespace": "istio-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": dict(installation.ZTUNNEL.pod_labels)},
            "accessLogging": [{"providers": [{"name": "envoy"}]}],
        },
    }
    docs = documents.from_objects([(f"{env}/{cluster}/t.yaml", telemetry)])
    report = engine.validate(docs, "prod", installation.of_environment(ENVS[env]))
    unmatched = [f for f in report.findings if f.rule == "selector-matches-workload"]
    assert bool(unmatched) != runs
