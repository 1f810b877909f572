"""Each cluster's Istio installation, declared once: gateways, istiod revisions, ambient's
node agents, Secrets.

A cluster runs what Istio's Helm charts install (Argo CD Applications in dist/_bootstrap/
control-plane) and a few Secrets nobody commits. meshops's own manifests reference those
objects by name, label and port: a Gateway selects the gateway pods, a VirtualService routes
to the egress gateway's host, an AuthorizationPolicy admits the ingress gateway's
ServiceAccount. Everything that needs one of those facts reads it here:

- the Helm values (constructs/istio_values.py) and the control-plane chart install exactly
  `of_cluster(env, cluster).gateways` and `.istiods`;
- naming.py spells the selectors and accounts the Gateways and policies use from it;
- `meshops validate` sees `Installation.externals` as the objects a cluster has beside the
  manifests (validate/scope.py), so `host-resolves`, `gateway-workload-exists` and
  `gateway-service-port` judge a cluster by what is installed in *that* cluster, and
  `ambient-installed` an ambient namespace by `Installation.ambient`;
- the cost report prices the node agents and waypoints at the requests declared here;
- the generated README lists it (docs/control_plane.py).

Service ports are what Istio's charts render (their templates, not our values): a helm test
(tests/unit/test_istio_helm_template.py) renders the charts with our values and compares.
Plain data and functions of the Environment: no cdk8s.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from charts_py.config import ambient
from charts_py.config.model import Cluster, ExternalService, Resources

if TYPE_CHECKING:  # the environment's loader checks its namespaces against these names
    from charts_py.config.environment import Environment

ROOT = "istio-system"
"""Istio's root namespace: istiod, the gateways and their Secrets live here."""
DRIFT_NAMESPACE = "meshops-system"
"""Where the nightly drift job runs in every cluster."""
ADAPTER_NAMESPACE = "monitoring"
"""prometheus-adapter's namespace, as its own deploy manifests name it (installed out of band
beside Prometheus; meshops renders only its rules there)."""
OWN_NAMESPACES = frozenset({ROOT, DRIFT_NAMESPACE, ADAPTER_NAMESPACE})
"""Namespaces meshops renders for itself in every cluster: no application namespace's name."""
NETWORK_LABEL = "topology.istio.io/network"
"""Multi-network meshes find a cluster's (and a network gateway's) network by this label."""


@dataclass(frozen=True, kw_only=True)
class Port:
    """A Service port and the container port it forwards to."""

    name: str
    port: int
    target_port: int


def _same(name: str, number: int) -> Port:
    return Port(name=name, port=number, target_port=number)


GATEWAY_PORTS = (_same("status-port", 15021), _same("http2", 80), _same("https", 443))
"""The gateway chart's Service ports (its values.yaml `service.ports`; meshops keeps them)."""
NETWORK_GATEWAY_PORTS = (
    _same("status-port", 15021),
    _same("tls", 15443),
    _same("tls-istiod", 15012),
    _same("tls-webhook", 15017),
)
"""The gateway chart's Service ports when `networkGateway` is set (fixed in its template)."""
ISTIOD_PORTS = (
    _same("grpc-xds", 15010),
    _same("https-dns", 15012),
    Port(name="https-webhook", port=443, target_port=15017),
    _same("http-monitoring", 15014),
)
"""istiod's Service ports (the istiod chart's service.yaml)."""


def chart_pod_labels(release: str, labels: Mapping[str, str]) -> dict[str, str]:
    """The pod labels Istio's gateway chart sets: `app` and `istio` from the release name
    (`istio-` trimmed) unless its `labels` value overrides them, plus every other label."""
    return {"app": release, "istio": release.removeprefix("istio-"), **labels}


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """One release of Istio's `gateway` chart: a Deployment, its Service and ServiceAccount."""

    release: str
    """The Helm release name: also the Deployment's and the Service's name."""
    selector: Mapping[str, str]
    """The pod label meshops's Gateway objects select (and policies match)."""
    service_account: str
    service_type: str = "LoadBalancer"
    network: str = ""
    """Set on the east-west gateway: it becomes the network gateway of that network."""
    ports: tuple[Port, ...] = GATEWAY_PORTS
    """The Service's ports, as the chart renders them."""

    @property
    def labels(self) -> dict[str, str]:
        """The chart's `labels` value: the selector, and the network of a network gateway."""
        return {**self.selector, **({NETWORK_LABEL: self.network} if self.network else {})}

    @property
    def pod_labels(self) -> dict[str, str]:
        """Every label the chart puts on the gateway's pods (and selects them by)."""
        return chart_pod_labels(self.release, self.labels)

    @property
    def service_selector(self) -> dict[str, str]:
        """The Service's selector: the chart's `app` and `istio` pod labels."""
        pods = self.pod_labels
        return {"app": pods["app"], "istio": pods["istio"]}

    @property
    def host(self) -> str:
        """The in-cluster host of the gateway's Service."""
        return f"{self.release}.{ROOT}.svc.cluster.local"


INGRESS = Gateway(
    release="istio-ingressgateway",
    selector={"istio": "ingressgateway"},
    service_account="istio-ingressgateway-service-account",
)
"""In every cluster: TLS ingress for the environment's hosts."""
EGRESS = Gateway(
    release="istio-egressgateway",
    selector={"istio": "egressgateway"},
    service_account="istio-egressgateway",
    service_type="ClusterIP",
)
"""Where the profile asks for it and a sensitive external host exists (via_egress_gateway)."""
EAST_WEST_SELECTOR: Mapping[str, str] = {"istio": "eastwestgateway"}


def east_west(network: str) -> Gateway:
    """In each cluster of a multi-cluster environment: the network gateway of `network`."""
    return Gateway(
        release="istio-eastwestgateway",
        selector=EAST_WEST_SELECTOR,
        service_account="istio-eastwestgateway",
        network=network,
        ports=NETWORK_GATEWAY_PORTS,
    )


@dataclass(frozen=True, kw_only=True)
class Istiod:
    """One release of Istio's `istiod` chart: one revision of the control plane."""

    revision: str
    """The `istio.io/rev` it serves; empty for an istiod installed without one."""
    version: str
    """The Istio release (config/releases.py)."""

    @property
    def service(self) -> str:
        """The chart names the Service after the revision (`istiod-1-31`), else `istiod`."""
        return f"istiod-{self.revision}" if self.revision else "istiod"

    @property
    def selector(self) -> dict[str, str]:
        """The Service's selector: the revision's pods, or the `istio: pilot` ones without."""
        if self.revision:
            return {"app": "istiod", "istio.io/rev": self.revision}
        return {"app": "istiod", "istio": "pilot"}


@dataclass(frozen=True, kw_only=True)
class NodeAgent:
    """One release of a chart that runs a DaemonSet on every node: ambient's data plane."""

    release: str
    """The Helm release name, as Istio's ambient Helm install names it."""
    chart: str
    """The chart's name in Istio's chart repository."""
    daemon_set: str
    """The DaemonSet the chart renders (its name is fixed by the template)."""
    pod_labels: Mapping[str, str]
    """The labels its DaemonSet selects its pods by."""
    requests: Resources
    """Its pod's requests: the chart's default `resources.requests` (meshops sets none)."""


ISTIO_CNI = NodeAgent(
    release="istio-cni",
    chart="cni",
    daemon_set="istio-cni-node",
    pod_labels={"k8s-app": "istio-cni-node"},
    requests=Resources(cpu="100m", memory="100Mi"),
)
"""Redirects an ambient pod's traffic to the node's ztunnel (chart `cni`, `profile: ambient`)."""
ZTUNNEL = NodeAgent(
    release="ztunnel",
    chart="ztunnel",
    daemon_set="ztunnel",
    pod_labels={"app": "ztunnel"},
    requests=Resources(cpu="200m", memory="512Mi"),
)
"""Carries ambient pods' traffic at L4 (mTLS, identity, L4 authorization); istiod trusts the
ServiceAccount `ztunnel` in its own namespace (the istiod chart's `trustedZtunnelName`)."""
NODE_AGENTS = (ISTIO_CNI, ZTUNNEL)
"""In the order they are installed."""
ZTUNNEL_STATS_PORT = "ztunnel-stats"
"""The ztunnel pods' Prometheus port (the chart's DaemonSet template)."""
WAYPOINT_REQUESTS = Resources(cpu="100m", memory="128Mi")
"""A waypoint pod's requests: the istiod chart's `global.waypoint.resources.requests`, which
istiod gives the one-replica Deployment it makes of each waypoint Gateway."""
AMBIENT_PROFILE = "ambient"
"""The Helm profile (a chart's `files/profile-ambient.yaml`) that Istio's ambient Helm install
sets on istiod and istio-cni: istiod serves ztunnel and waypoints, istio-cni redirects."""


@dataclass(frozen=True, kw_only=True)
class Secret:
    """A Secret in the root namespace that meshops references and never renders."""

    name: str
    made_by: str
    """Who creates it (it never goes to git)."""


@dataclass(frozen=True, kw_only=True)
class External:
    """One object the cluster has beside the manifests, as validate's rules look it up."""

    kind: str
    name: str
    namespace: str = ROOT
    labels: Mapping[str, str] = field(default_factory=dict)
    """Pod labels of a workload; a Service's selector."""
    ports: tuple[Port, ...] = ()

    @property
    def host(self) -> str:
        """The in-cluster host name of a Service."""
        return f"{self.name}.{self.namespace}.svc.cluster.local"


@dataclass(frozen=True, kw_only=True)
class Installation:
    """What Istio's charts and the operator put in one cluster."""

    environment: str
    cluster: str
    gateways: tuple[Gateway, ...]
    istiods: tuple[Istiod, ...]
    ambient: bool = False
    """Whether a namespace runs ambient: istiod gets the ambient profile, and istio-cni and
    ztunnel are installed (`node_agents`)."""
    secrets: tuple[Secret, ...] = ()
    workloads: tuple[External, ...] = ()
    """The pods (and Services) of services meshops meshes but does not deploy (`workload:`):
    another tool's objects that meshops's manifests select and route to."""
    declared: bool = True
    """False for ASSUMED: manifests of no known cluster, where nothing is declared."""

    @property
    def node_agents(self) -> tuple[NodeAgent, ...]:
        """The DaemonSets of ambient's data plane, where the cluster runs ambient."""
        return NODE_AGENTS if self.ambient else ()

    @functools.cached_property
    def externals(self) -> tuple[External, ...]:
        """The gateway Deployments and Services, istiod's Services, ambient's DaemonSets and
        the Secrets (computed once: validate looks them up for every host it resolves)."""
        out: list[External] = [
            External(kind="DaemonSet", name=agent.daemon_set, labels=agent.pod_labels)
            for agent in self.node_agents
        ]
        for gateway in self.gateways:
            name, ports = gateway.release, gateway.ports
            out.append(External(kind="Deployment", name=name, labels=gateway.pod_labels))
            selector = gateway.service_selector
            out.append(External(kind="Service", name=name, labels=selector, ports=ports))
        for istiod in self.istiods:
            selector = istiod.selector
            out.append(
                External(kind="Service", name=istiod.service, labels=selector, ports=ISTIOD_PORTS)
            )
        out += [External(kind="Secret", name=secret.name) for secret in self.secrets]
        return (*out, *self.workloads)


ASSUMED = Installation(
    environment="",
    cluster="",
    gateways=(INGRESS, EGRESS, east_west("")),
    istiods=(Istiod(revision="", version=""),),
    ambient=True,
    declared=False,
)
"""For manifests of no declared cluster: Istio's usual gateways, an istiod without a revision
and ambient's node agents are taken to exist, so that references to them are not reported as
missing."""


def via_egress_gateway(env: Environment, external: ExternalService) -> bool:
    """Sensitive hosts leave through the egress gateway when the profile asks for one."""
    return env.policy.egress_gateway and external.sensitive


def of_cluster(env: Environment, cluster: Cluster) -> Installation:
    """The installation of one cluster of `env`; an out-of-band control plane (`mesh.managed:
    false`) is not declared: Istio's usual gateways and an istiod (and ambient's node agents,
    where a namespace runs ambient) are assumed, and the rules that judge by them say so."""
    if not env.mesh.managed:
        return dataclasses.replace(
            ASSUMED,
            environment=env.name,
            cluster=cluster.name,
            ambient=bool(env.ambient_namespaces),
            secrets=_secrets(env, cluster),
            workloads=_deployed_by_others(env),
        )
    gateways = [INGRESS] if _helm_ingress(env) else []
    if any(via_egress_gateway(env, e) for e in env.spec.external_services):
        gateways.append(EGRESS)
    if env.multi_cluster:
        gateways.append(east_west(cluster.network))
    istiods = tuple(Istiod(revision=r.name, version=r.version) for r in env.mesh.revisions)
    return Installation(
        environment=env.name,
        cluster=cluster.name,
        gateways=tuple(gateways),
        istiods=istiods,
        ambient=bool(env.ambient_namespaces),
        secrets=_secrets(env, cluster),
        workloads=_deployed_by_others(env),
    )


GATEWAY_API_CRDS = "v1.6.0"
"""The Gateway API release whose CRDs a cluster must have, out of band, before istiod programs
a Gateway API object: the version packaged in charts_py/crds/gateway-api (scripts/fetch_crds.py,
tested equal), the one the pinned istioctl is built against."""
GATEWAY_API_CHANNEL = "experimental"
"""Its channel: ambient's HTTPRoutes carry `retry` (attempts, status codes), which Gateway API
v1.6 has in the experimental channel only; Istio implements it. The experimental CRDs serve
every standard field too."""


def uses_gateway_api(env: Environment) -> bool:
    """Whether the environment's manifests hold Gateway API objects (ambient's waypoints and
    routes, a Gateway API ingress), so its clusters need Gateway API's CRDs."""
    return bool(ambient.gateway_api_kinds(env))


def _helm_ingress(env: Environment) -> bool:
    """Whether the cluster runs the Helm-installed ingress gateway: always, but where a Gateway
    API ingress replaces it (istiod deploys that one) and no top-level `gateways:` select it."""
    ingress = env.spec.ingress
    return not (ingress and ingress.api == "gateway-api" and not env.spec.gateways)


def of_environment(env: Environment) -> tuple[Installation, ...]:
    """The installation of every cluster of `env`, in the file's order."""
    return tuple(of_cluster(env, cluster) for cluster in env.spec.clusters)


def _deployed_by_others(env: Environment) -> tuple[External, ...]:
    """Pods of services meshops meshes but does not deploy (`workload:`): their workload
    (named as the service where `deployment` does not name it), and their Service when it is
    theirs too."""
    out = []
    for svc in env.services:
        pods = svc.workload
        if pods is None:
            continue
        ns, labels = env.namespace_of(svc), dict(pods.selector)
        out.append(
            External(
                kind="Deployment", namespace=ns, name=pods.deployment or svc.name, labels=labels
            )
        )
        if pods.service == "theirs":
            port = Port(name=svc.protocol, port=svc.port, target_port=svc.port)
            out.append(
                External(kind="Service", namespace=ns, name=svc.name, labels=labels, ports=(port,))
            )
    return tuple(out)


def _secrets(env: Environment, cluster: Cluster) -> tuple[Secret, ...]:
    """The ingress certificate, and in multi-cluster one remote secret per other cluster
    (`istioctl create-remote-secret --name <other>`, applied here: istiod reads the other
    clusters' API servers with it)."""
    tls = [
        Secret(name=name, made_by="cert-manager or the operator: the ingress TLS certificate")
        for name in _tls_secrets(env)
    ]
    remote = [
        Secret(
            name=f"istio-remote-secret-{other.name}",
            made_by=f"`istioctl create-remote-secret --name {other.name}` against {other.name}",
        )
        for other in env.spec.clusters
        if other.name != cluster.name and env.multi_cluster
    ]
    return (*tls, *remote)


def _tls_secrets(env: Environment) -> list[str]:
    """The certificates the gateways' servers name (`tlsSecret`, `credentialName(s)`): read
    by the gateway's pods in the mesh root, which holds them."""
    ingress = env.spec.ingress
    found = [ingress.tls_secret] if ingress and ingress.tls_secret else []
    servers = [
        *(ingress.servers or [] if ingress else []),
        *(server for gateway in env.spec.gateways for server in gateway.servers or []),
    ]
    for server in servers:
        if server.tls is not None:
            found += [server.tls.credentialName] if server.tls.credentialName else []
            found += server.tls.credentialNames or []
    return sorted(set(found))
