"""Names and identities shared by constructs, docs, cost and drift, spelled in one place.

Plain data and functions of the Environment: no cdk8s, so `meshops cost` and drift use it
without starting Node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from charts_py.config import ambient, installation

if TYPE_CHECKING:  # annotations only: review and drift read names without the pydantic models
    from charts_py.config.environment import Environment
    from charts_py.config.model import Service

MESH_ROOT = installation.ROOT
"""Istio's root namespace: mesh-wide policy and the gateways live here."""

# The gateways' labels and identities are the installation's (config/installation.py): the
# Gateway objects select the pods its Helm values label, policies admit its ServiceAccounts.
INGRESS_GATEWAY_SELECTOR = dict(installation.INGRESS.selector)
EGRESS_GATEWAY_SELECTOR = dict(installation.EGRESS.selector)
EASTWEST_GATEWAY_SELECTOR = dict(installation.EAST_WEST_SELECTOR)
INGRESS_GATEWAY_ACCOUNT = installation.INGRESS.service_account
"""The ingress gateway pods' ServiceAccount (set in its Helm values; services admit it)."""
INGRESS_GATEWAY_PRINCIPAL = f"cluster.local/ns/{MESH_ROOT}/sa/{INGRESS_GATEWAY_ACCOUNT}"
EGRESS_GATEWAY_HOST = installation.EGRESS.host
NETWORK_LABEL = installation.NETWORK_LABEL
"""Multi-network meshes find a cluster's (and a network gateway's) network by this label."""
DRIFT_NAMESPACE = installation.DRIFT_NAMESPACE
"""Where the nightly drift job runs in every cluster."""
ADAPTER_NAMESPACE = installation.ADAPTER_NAMESPACE
ADAPTER_CONFIG = "adapter-config"
"""prometheus-adapter's namespace and config ConfigMap, as its own deploy manifests name them
(installed out of band beside Prometheus; meshops renders only the rules)."""
LOAD_TEST_ACCOUNT = "meshops-load-test"
"""The ServiceAccount (and `app` label) of load-test Jobs; targets admit its principal."""
ACCESS_LOG_PROVIDER = "json-access-log"
"""The mesh configuration's access-log extension provider, named by the mesh Telemetry."""
INGRESS_GATEWAY = "ingress"
EGRESS_GATEWAY = "egress"
INGRESS_GATEWAY_CLASS = "istio"
"""The GatewayClass of a Gateway API ingress: istiod deploys it (`ingress.api: gateway-api`)."""
INGRESS_K8S_GATEWAY_PRINCIPAL = (
    f"cluster.local/ns/{MESH_ROOT}/sa/{INGRESS_GATEWAY}-{INGRESS_GATEWAY_CLASS}"
)
"""Istio names the Deployment and ServiceAccount it creates for a Gateway API Gateway
`<name>-<gatewayClassName>` (pilot/pkg/config/kube/gatewaycommon: GetDefaultName)."""


def ingress_principal(env: Environment) -> str:
    """The identity of the ingress gateway's pods, which exposed services admit."""
    if env.spec.ingress and env.spec.ingress.api == "gateway-api":
        return INGRESS_K8S_GATEWAY_PRINCIPAL
    return INGRESS_GATEWAY_PRINCIPAL


def fqdn(service: str, namespace: str) -> str:
    """The in-cluster DNS name Istio uses as a host."""
    return f"{service}.{namespace}.svc.cluster.local"


def principal(service: str, namespace: str) -> str:
    """The SPIFFE principal of a workload's ServiceAccount (one ServiceAccount per service)."""
    return f"cluster.local/ns/{namespace}/sa/{service}"


def waypoint_principal(namespace: str) -> str:
    """The identity a namespace's waypoint calls the services behind it with: istiod's
    waypoint template names its ServiceAccount after the Gateway."""
    return principal(ambient.WAYPOINT, namespace)


def pods(service: Service) -> dict[str, str]:
    """The labels of a service's pods: meshops's own `app`, or those of pods someone else
    deploys (`workload.selector`)."""
    return dict(service.workload.selector) if service.workload else {"app": service.name}


def kept(service: Service, kind: str) -> str:
    """The name of a service's object of `kind` (a field of `model.Names`: `virtual_service`,
    ...): the one it already has in the cluster when `names:` says so, else the service's."""
    found = getattr(service.names, kind) if service.names else None
    return str(found) if found else service.name


def account(service: Service) -> str:
    """The ServiceAccount of a service's pods (its mesh identity)."""
    found = service.workload.service_account if service.workload else None
    return found or service.name


def workload(service: str, version: str) -> str:
    """The Deployment (and HPA, PDB) name of one version of a service."""
    return f"{service}-{version}"


def egress_hosts(env: Environment, service: Service) -> list[str]:
    """The `namespace/host` entries a service's proxy needs: callees, externals, the mesh root."""
    home = env.spec.namespace  # the ServiceEntries' namespace
    by_name = {e.name: e for e in env.spec.external_services}
    callees = [env.callee(service, ref) for ref in service.calls]
    hosts = {
        f"{ns}/{fqdn(callee.name, ns)}"
        for callee in callees
        if callee is not None
        for ns in [env.namespace_of(callee)]
    }
    hosts |= {f"{home}/{host}" for name in service.externals for host in by_name[name].all_hosts}
    hosts.add(f"{MESH_ROOT}/*")
    return sorted(hosts)
