"""Monthly cost of an environment's requested CPU and memory, per cluster and service.

Method: a pod requests its app container's resources (the service's, else the profile's) plus
the Envoy sidecar's (the profile's `proxy`); in an ambient namespace it has no sidecar, and the
cluster runs ambient's pods instead (`AmbientPods`): ztunnel and istio-cni on every node (their
charts' requests, times `cost.nodes`), and one waypoint per namespace that has one (istiod's
waypoint requests), as meshops renders them (config/installation.py, config/ambient.py).
A service runs one Deployment per version, each scaled between its HPA's min and max (or a
fixed replica count without HPA). Cost is requests x replicas x rate x 730 hours, at the
minimum and at the maximum. Requests, not usage: that is what the scheduler reserves and what
a cluster is sized (and billed) for.

Sidecar scoping is an estimate. Envoy's configuration memory grows roughly linearly with the
hosts (clusters and their endpoints) it is told about: per proxy, BASE_MIB + MIB_PER_HOST x
hosts. Without scoping a proxy sees what the namespace's default Sidecar exposes (every
service and external service of the namespace, plus the mesh root); with scoping, its
service's own egress hosts. Both constants are assumptions, not measurements. An ambient
service has no proxy to scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from charts_py import naming, quantity
from charts_py.config import ambient, installation
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster, Resources, Service

HOURS_PER_MONTH = Decimal(730)
"""365 x 24 / 12, the usual cloud-pricing month."""
BASE_MIB = Decimal(20)
"""Assumed Envoy configuration memory with no hosts (listeners, bootstrap, stats)."""
MIB_PER_HOST = Decimal("0.5")
"""Assumed configuration memory per visible host (cluster, endpoints, routes)."""
MIB = Decimal(2**20)
GIB = Decimal(2**30)

Measure = Literal["cpu", "memory", "monthly", "saved_memory"]
"""What a total sums: cores, bytes, money, or bytes of proxy memory scoping saves."""


@dataclass(frozen=True)
class Rates:
    """Prices per requested resource, from the environment file's `cost:` block."""

    cpu_per_core_hour: Decimal
    memory_per_gib_hour: Decimal
    currency: str

    def monthly(self, cores: Decimal, memory_bytes: Decimal) -> Decimal:
        """The price of holding `cores` and `memory_bytes` for a month."""
        hourly = cores * self.cpu_per_core_hour + memory_bytes / GIB * self.memory_per_gib_hour
        return hourly * HOURS_PER_MONTH


@dataclass(frozen=True)
class Requests:
    """CPU (cores) and memory (bytes) requested by one container."""

    cpu: Decimal
    memory: Decimal

    @classmethod
    def of(cls, resources: Resources) -> Requests:
        return cls(quantity.amount(resources.cpu), quantity.amount(resources.memory))

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu + other.cpu, self.memory + other.memory)

    def __mul__(self, times: int) -> Requests:
        return Requests(self.cpu * times, self.memory * times)


@dataclass(frozen=True)
class Scoping:
    """Hosts one proxy of the service knows about, without and with its Sidecar."""

    hosts_without: int
    hosts_with: int

    @property
    def saved_mib_per_proxy(self) -> Decimal:
        return MIB_PER_HOST * (self.hosts_without - self.hosts_with)

    def proxy_mib(self, scoped: bool) -> Decimal:
        """Estimated configuration memory of one proxy (MiB)."""
        return BASE_MIB + MIB_PER_HOST * (self.hosts_with if scoped else self.hosts_without)


@dataclass(frozen=True)
class Range:
    """A quantity at the minimum and at the maximum replica counts."""

    min: Decimal
    max: Decimal

    def __add__(self, other: Range) -> Range:
        return Range(self.min + other.min, self.max + other.max)


ZERO = Range(Decimal(0), Decimal(0))
NONE = Requests(Decimal(0), Decimal(0))
"""An ambient pod's sidecar."""


@dataclass(frozen=True)
class ServiceCost:
    """One service in one cluster: its pods, replica bounds and what they cost."""

    service: str
    dataplane: str
    """`sidecar` or `ambient` (no sidecar in the pod, no Sidecar to scope)."""
    deployments: int
    autoscaled: bool
    min_replicas: int
    max_replicas: int
    app: Requests
    proxy: Requests
    scoping: Scoping | None
    """None in ambient."""
    rates: Rates

    @property
    def pod(self) -> Requests:
        return self.app + self.proxy

    def _at(self, replicas: int) -> Requests:
        return self.pod * replicas

    @property
    def cpu(self) -> Range:
        return Range(self._at(self.min_replicas).cpu, self._at(self.max_replicas).cpu)

    @property
    def memory(self) -> Range:
        return Range(self._at(self.min_replicas).memory, self._at(self.max_replicas).memory)

    @property
    def monthly(self) -> Range:
        low, high = self._at(self.min_replicas), self._at(self.max_replicas)
        return Range(
            self.rates.monthly(low.cpu, low.memory), self.rates.monthly(high.cpu, high.memory)
        )

    @property
    def saved_memory(self) -> Range:
        """Estimated proxy memory (bytes) scoping saves across the service's pods."""
        if self.scoping is None:
            return ZERO
        per_proxy = self.scoping.saved_mib_per_proxy * MIB
        return Range(per_proxy * self.min_replicas, per_proxy * self.max_replicas)


@dataclass(frozen=True)
class AmbientPods:
    """Pods ambient runs in a cluster instead of sidecars: a node agent's, one per node, or a
    namespace's waypoint (one replica: istiod's Deployment of the Gateway)."""

    name: str
    namespace: str
    per_node: bool
    replicas: int | None
    """None: one per node, and the node count is unknown (`cost.nodes` unset): priced per
    node (`per_pod_monthly`), counted as nothing in the totals."""
    pod: Requests
    rates: Rates

    @property
    def _all(self) -> Requests:
        return self.pod * (self.replicas or 0)

    @property
    def cpu(self) -> Range:
        return Range(self._all.cpu, self._all.cpu)

    @property
    def memory(self) -> Range:
        return Range(self._all.memory, self._all.memory)

    @property
    def monthly(self) -> Range:
        cost = self.rates.monthly(self._all.cpu, self._all.memory)
        return Range(cost, cost)

    @property
    def per_pod_monthly(self) -> Decimal:
        return self.rates.monthly(self.pod.cpu, self.pod.memory)

    @property
    def saved_memory(self) -> Range:
        return ZERO  # no Sidecar scopes them


@dataclass(frozen=True)
class ClusterCost:
    """Every service of the environment as it runs in one cluster, and ambient's pods."""

    cluster: str
    services: list[ServiceCost]
    ambient: list[AmbientPods] = field(default_factory=list)

    def total(self, what: Measure) -> Range:
        """The sum of one measure over the cluster's services and ambient's pods."""
        out = ZERO
        for item in (*self.services, *self.ambient):
            value: Range = getattr(item, what)
            out += value
        return out

    @property
    def unpriced_nodes(self) -> list[AmbientPods]:
        """Node agents priced per node only: the node count is unknown."""
        return [pods for pods in self.ambient if pods.replicas is None]


@dataclass(frozen=True)
class EnvironmentCost:
    """An environment's cost per cluster (each primary runs every service)."""

    env: str
    profile: str
    rates: Rates
    clusters: list[ClusterCost]
    nodes: int | None = None
    """`cost.nodes`: nodes per cluster, for the node agents ambient runs on each."""

    def total(self, what: Measure) -> Range:
        """The sum of one measure over the environment's clusters."""
        out = ZERO
        for cluster in self.clusters:
            out += cluster.total(what)
        return out

    def saved_monthly(self) -> Range:
        """What the estimated proxy memory saving would be worth if requests were lowered."""
        saved = self.total("saved_memory")
        zero = Decimal(0)
        return Range(self.rates.monthly(zero, saved.min), self.rates.monthly(zero, saved.max))


def rates(env: Environment) -> Rates:
    """The environment's prices (Decimal from the YAML number's shortest text: 0.031 stays)."""
    cost = env.spec.cost
    return Rates(
        Decimal(str(cost.cpu_per_core_hour)), Decimal(str(cost.memory_per_gib_hour)), cost.currency
    )


def service_cost(env: Environment, svc: Service, prices: Rates) -> ServiceCost:
    """Pods, replica bounds (summed over the service's Deployments) and scoping of `svc`."""
    settings = env.settings(svc)
    scaling = settings.autoscaling
    # Without an HPA the Deployment gets the profile's minimum as a fixed replica count.
    low = scaling.min if scaling else env.policy.autoscaling.min
    high = scaling.max if scaling else low
    deployments = len(svc.versions)
    in_ambient = env.namespace_of(svc) in env.ambient_namespaces
    return ServiceCost(
        service=svc.name,
        dataplane="ambient" if in_ambient else "sidecar",
        deployments=deployments,
        autoscaled=scaling is not None,
        min_replicas=low * deployments,
        max_replicas=high * deployments,
        app=Requests.of(settings.resources),
        proxy=NONE if in_ambient else Requests.of(env.policy.proxy),
        scoping=None if in_ambient else scoping(env, svc),
        rates=prices,
    )


def scoping(env: Environment, svc: Service) -> Scoping:
    """Hosts visible through the namespace's default Sidecar vs the service's own."""
    # The default Sidecar exposes `./*` (every service and ServiceEntry of the namespace)
    # and the mesh root; the service's Sidecar its callees, externals and the mesh root.
    without = len(env.home(svc).services) + len(env.spec.external_services) + 1
    return Scoping(hosts_without=without, hosts_with=len(naming.egress_hosts(env, svc)))


def estimate(env: Environment) -> EnvironmentCost:
    """The cost of `env`, per cluster, services sorted by name: those meshops deploys (the
    pods of a `workload:` are someone else's, sized by them)."""
    prices = rates(env)
    deployed = [s for s in env.services if s.workload is None]
    services = sorted(deployed, key=lambda s: (env.namespace_of(s), s.name))
    per_cluster = [service_cost(env, svc, prices) for svc in services]
    clusters = [
        ClusterCost(c.name, per_cluster, ambient_pods(env, c, prices)) for c in env.spec.clusters
    ]
    return EnvironmentCost(env.name, env.spec.profile, prices, clusters, env.spec.cost.nodes)


def ambient_pods(env: Environment, cluster: Cluster, prices: Rates) -> list[AmbientPods]:
    """The node agents the cluster's installation runs (`cost.nodes` of each), then each
    namespace's waypoint, by namespace."""
    nodes = env.spec.cost.nodes
    out = [
        AmbientPods(
            name=agent.daemon_set,
            namespace=installation.ROOT,
            per_node=True,
            replicas=nodes,
            pod=Requests.of(agent.requests),
            rates=prices,
        )
        for agent in installation.of_cluster(env, cluster).node_agents
    ]
    waypoint = Requests.of(installation.WAYPOINT_REQUESTS)
    homes = sorted(ns.name for ns in env.namespaces if ambient.has_waypoint(env, ns))
    out += [
        AmbientPods(
            name=ambient.WAYPOINT,
            namespace=ns,
            per_node=False,
            replicas=1,
            pod=waypoint,
            rates=prices,
        )
        for ns in homes
    ]
    return out


def estimate_all(envs: Sequence[Environment]) -> list[EnvironmentCost]:
    """The cost of each environment, in the order given."""
    return [estimate(env) for env in envs]
