"""Names and identities shared by constructs, docs, cost and drift, spelled in one place.

Plain data and functions of the Environment: no cdk8s, so `meshops cost` and drift use it
without starting Node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: review and drift read names without the pydantic models
    from charts_py.config.environment import Environment
    from charts_py.config.model import Service

MESH_ROOT = "istio-system"
"""Istio's root namespace: mesh-wide policy and the gateways live here."""

INGRESS_GATEWAY_SELECTOR = {"istio": "ingressgateway"}
EGRESS_GATEWAY_SELECTOR = {"istio": "egressgateway"}
EASTWEST_GATEWAY_SELECTOR = {"istio": "eastwestgateway"}
INGRESS_GATEWAY_ACCOUNT = "istio-ingressgateway-service-account"
"""The ingress gateway pods' ServiceAccount (set in its Helm values; services admit it)."""
INGRESS_GATEWAY_PRINCIPAL = f"cluster.local/ns/{MESH_ROOT}/sa/{INGRESS_GATEWAY_ACCOUNT}"
EGRESS_GATEWAY_SERVICE = "istio-egressgateway"
"""The egress gateway's Helm release, hence its Service (and ServiceAccount) name."""
EGRESS_GATEWAY_HOST = f"{EGRESS_GATEWAY_SERVICE}.{MESH_ROOT}.svc.cluster.local"
NETWORK_LABEL = "topology.istio.io/network"
"""Multi-network meshes find a cluster's (and a network gateway's) network by this label."""
DRIFT_NAMESPACE = "meshops-system"
"""Where the nightly drift job runs in every cluster."""
ADAPTER_NAMESPACE = "monitoring"
ADAPTER_CONFIG = "adapter-config"
"""prometheus-adapter's namespace and config ConfigMap, as its own deploy manifests name them
(installed out of band beside Prometheus; meshops renders only the rules)."""
LOAD_TEST_ACCOUNT = "meshops-load-test"
"""The ServiceAccount (and `app` label) of load-test Jobs; targets admit its principal."""
ACCESS_LOG_PROVIDER = "json-access-log"
"""The mesh configuration's access-log extension provider, named by the mesh Telemetry."""
INGRESS_GATEWAY = "ingress"
EGRESS_GATEWAY = "egress"


def fqdn(service: str, namespace: str) -> str:
    """The in-cluster DNS name Istio uses as a host."""
    return f"{service}.{namespace}.svc.cluster.local"


def principal(service: str, namespace: str) -> str:
    """The SPIFFE principal of a workload's ServiceAccount (one ServiceAccount per service)."""
    return f"cluster.local/ns/{namespace}/sa/{service}"


def workload(service: str, version: str) -> str:
    """The Deployment (and HPA, PDB) name of one version of a service."""
    return f"{service}-{version}"


def egress_hosts(env: Environment, service: Service) -> list[str]:
    """The `namespace/host` entries a service's proxy needs: callees, externals, the mesh root."""
    ns = env.spec.namespace
    by_name = {e.name: e for e in env.spec.external_services}
    hosts = {f"{ns}/{fqdn(callee, ns)}" for callee in service.calls}
    hosts |= {f"{ns}/{by_name[name].host}" for name in service.externals}
    hosts.add(f"{MESH_ROOT}/*")
    return sorted(hosts)
