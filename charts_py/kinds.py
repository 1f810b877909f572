"""Every kind meshops emits: API version, scope and Argo CD sync wave, in one table.

Sync waves order a sync inside one Application: Namespaces first, then identities, policy,
telemetry and the service registry, then DestinationRules, then the VirtualServices that
reference their subsets (make-before-break: a VirtualService naming an unknown subset drops
traffic), and the workloads last.

Workloads are last because Argo CD starts a wave only once every object of the earlier
waves is Healthy, and does not wait on the final wave (gitops-engine sync_context.go). So
mesh configuration never waits on a Deployment: while a canary crash-loops, the weight
change that drains it still syncs. Validate's `sync-wave-health` rule keeps it so.
"""

from __future__ import annotations

from dataclasses import dataclass

from charts_py.objectref import group_of


@dataclass(frozen=True)
class Kind:
    """An API kind as it is written to dist/."""

    api_version: str
    kind: str
    namespaced: bool
    wave: int
    plural: str = ""

    @property
    def resource(self) -> str:
        """The lower-case plural used in URLs and RBAC rules."""
        if self.plural:
            return self.plural
        lower = self.kind.lower()
        if lower.endswith("y") and lower[-2] not in "aeiou":
            return lower[:-1] + "ies"  # policy -> policies, but gateway -> gateways
        return lower + ("es" if lower.endswith("s") else "s")

    @property
    def group(self) -> str:
        """The API group as Kubernetes spells it (`""` for the legacy group)."""
        return group_of(self.api_version)


NAMESPACE = Kind("v1", "Namespace", namespaced=False, wave=-10)
SERVICE_ACCOUNT = Kind("v1", "ServiceAccount", namespaced=True, wave=-5)
CONFIG_MAP = Kind("v1", "ConfigMap", namespaced=True, wave=-5)
PEER_AUTHENTICATION = Kind("security.istio.io/v1", "PeerAuthentication", True, wave=-5)
AUTHORIZATION_POLICY = Kind("security.istio.io/v1", "AuthorizationPolicy", True, wave=-5)
REQUEST_AUTHENTICATION = Kind("security.istio.io/v1", "RequestAuthentication", True, wave=-5)
SIDECAR = Kind("networking.istio.io/v1", "Sidecar", namespaced=True, wave=-5)
TELEMETRY = Kind("telemetry.istio.io/v1", "Telemetry", namespaced=True, wave=-5)
SERVICE_ENTRY = Kind("networking.istio.io/v1", "ServiceEntry", namespaced=True, wave=-5)
GATEWAY = Kind("networking.istio.io/v1", "Gateway", namespaced=True, wave=-5)
SERVICE_MONITOR = Kind("monitoring.coreos.com/v1", "ServiceMonitor", True, wave=-5)
POD_MONITOR = Kind("monitoring.coreos.com/v1", "PodMonitor", namespaced=True, wave=-5)
PROMETHEUS_RULE = Kind("monitoring.coreos.com/v1", "PrometheusRule", True, wave=-5)
SERVICE = Kind("v1", "Service", namespaced=True, wave=0)
"""With the workloads: a LoadBalancer Service is Progressing until it has an address."""
DEPLOYMENT = Kind("apps/v1", "Deployment", namespaced=True, wave=0)
HPA = Kind(
    "autoscaling/v2",
    "HorizontalPodAutoscaler",
    namespaced=True,
    wave=0,
    plural="horizontalpodautoscalers",
)
PDB = Kind("policy/v1", "PodDisruptionBudget", namespaced=True, wave=0)
DESTINATION_RULE = Kind("networking.istio.io/v1", "DestinationRule", namespaced=True, wave=-3)
VIRTUAL_SERVICE = Kind("networking.istio.io/v1", "VirtualService", namespaced=True, wave=-1)
CRON_JOB = Kind("batch/v1", "CronJob", namespaced=True, wave=0)
JOB = Kind("batch/v1", "Job", namespaced=True, wave=0)
"""Load tests run with the workloads: a later wave would wait for every Deployment's health."""
CLUSTER_ROLE = Kind("rbac.authorization.k8s.io/v1", "ClusterRole", namespaced=False, wave=-5)
CLUSTER_ROLE_BINDING = Kind(
    "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", namespaced=False, wave=-5
)
ROLE = Kind("rbac.authorization.k8s.io/v1", "Role", namespaced=True, wave=-5)
ROLE_BINDING = Kind("rbac.authorization.k8s.io/v1", "RoleBinding", namespaced=True, wave=-5)
APP_PROJECT = Kind("argoproj.io/v1alpha1", "AppProject", namespaced=True, wave=0)
APPLICATION_SET = Kind("argoproj.io/v1alpha1", "ApplicationSet", namespaced=True, wave=0)
APPLICATION = Kind("argoproj.io/v1alpha1", "Application", namespaced=True, wave=0)
"""The control-plane Applications set their own waves (constructs/control_plane.py)."""

ENVOY_FILTER = Kind("networking.istio.io/v1alpha3", "EnvoyFilter", namespaced=True, wave=-5)
WASM_PLUGIN = Kind("extensions.istio.io/v1alpha1", "WasmPlugin", namespaced=True, wave=-5)
PROXY_CONFIG = Kind("networking.istio.io/v1beta1", "ProxyConfig", namespaced=True, wave=-5)
WORKLOAD_ENTRY = Kind("networking.istio.io/v1", "WorkloadEntry", namespaced=True, wave=-5)
WORKLOAD_GROUP = Kind("networking.istio.io/v1", "WorkloadGroup", namespaced=True, wave=-5)

GATEWAY_API = "gateway.networking.k8s.io/v1"
# Argo CD v3.6 assesses the health of Gateway API objects (resource_customizations/
# gateway.networking.k8s.io: Progressing until a controller writes status), so they sync in the
# last wave, with the workloads: an earlier wave would hold everything after it until istiod
# has programmed them (forever on a cluster without istiod), and mesh configuration never waits
# on a workload's health. Each version's own Service (an HTTPRoute's backend) syncs with them.
GATEWAY_API_GATEWAY = Kind(GATEWAY_API, "Gateway", namespaced=True, wave=0)
HTTP_ROUTE = Kind(GATEWAY_API, "HTTPRoute", namespaced=True, wave=0)
GRPC_ROUTE = Kind(GATEWAY_API, "GRPCRoute", namespaced=True, wave=0)
TCP_ROUTE = Kind(GATEWAY_API, "TCPRoute", namespaced=True, wave=0)
TLS_ROUTE = Kind(GATEWAY_API, "TLSRoute", namespaced=True, wave=0)
REFERENCE_GRANT = Kind(GATEWAY_API, "ReferenceGrant", namespaced=True, wave=0)
GATEWAY_API_KINDS: tuple[Kind, ...] = (
    GATEWAY_API_GATEWAY,
    HTTP_ROUTE,
    GRPC_ROUTE,
    TCP_ROUTE,
    TLS_ROUTE,
    REFERENCE_GRANT,
)
"""Gateway API kinds (v1, standard channel v1.6), which only some environments emit (the
typed lists `httpRoutes`, ...; ambient's waypoints and GAMMA routes, a Gateway API ingress):
not in MESH_KINDS, because drift lists every one of those in every cluster, and a cluster
without Gateway API's CRDs does not serve them. The AppProjects admit them, and the drift job
may read them, in the environments that use them (`config/ambient.gateway_api_kinds`)."""
AMBIENT_GATEWAY_API_KINDS: tuple[Kind, ...] = (GATEWAY_API_GATEWAY, HTTP_ROUTE, GRPC_ROUTE)
"""The Gateway API kinds ambient's waypoints and GAMMA routes, and a Gateway API ingress, emit."""

EXTENSION_KINDS: tuple[Kind, ...] = (
    ENVOY_FILTER,
    WASM_PLUGIN,
    PROXY_CONFIG,
    WORKLOAD_ENTRY,
    WORKLOAD_GROUP,
)
"""Kinds with a packaged schema that only an environment's `extensions:` emit (no typed
field covers them). An extension may carry any other namespaced kind too (`extension`);
Argo CD's project admits, and the drift job reads, the kinds an environment's extensions use
(config/istio_checks.py: `extension_kinds`)."""


MESH_KINDS: tuple[Kind, ...] = (
    NAMESPACE,
    SERVICE_ACCOUNT,
    CONFIG_MAP,
    PEER_AUTHENTICATION,
    AUTHORIZATION_POLICY,
    REQUEST_AUTHENTICATION,
    SIDECAR,
    TELEMETRY,
    SERVICE_ENTRY,
    GATEWAY,
    SERVICE_MONITOR,
    POD_MONITOR,
    PROMETHEUS_RULE,
    SERVICE,
    DEPLOYMENT,
    HPA,
    PDB,
    DESTINATION_RULE,
    VIRTUAL_SERVICE,
    CRON_JOB,
    CLUSTER_ROLE,
    CLUSTER_ROLE_BINDING,
    ROLE,
    ROLE_BINDING,
    JOB,
)
"""The kinds the per-cluster charts emit; the Argo CD AppProject allows exactly these."""


def extension(api_version: str, kind: str, plural: str | None = None) -> Kind:
    """The kind an `extensions:` entry emits: one of the tables above when it names one
    (at the entry's own version: a Gateway API TLSRoute at `v1alpha2` syncs in the wave of
    Gateway API's kinds, whose health Argo CD waits for), else any namespaced kind
    (`plural`: its resource name, when not Kubernetes' guess)."""
    group = group_of(api_version)
    for known in (*EXTENSION_KINDS, *MESH_KINDS, *GATEWAY_API_KINDS):
        if known.namespaced and (known.group, known.kind) == (group, kind):
            if known.api_version == api_version:
                return known
            return Kind(api_version, kind, True, wave=known.wave, plural=plural or known.plural)
    return Kind(api_version, kind, namespaced=True, wave=-5, plural=plural or "")
