"""Blast radius, and what classifiers ask of the rest of a side, from one cluster's
AuthorizationPolicies and VirtualServices (read once, only when a change needs them).

Callers of a service are the principals its ALLOW policies admit (the `calls` of the
environment, as rendered), without the mesh root namespace's gateways: what reaches a service
from outside shows as the ingress hosts of the gateway-bound VirtualServices routing to it, or
of the Gateway API routes attached to a Gateway (not to a Service: GAMMA) with it as backend.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from charts_py.review import security
from charts_py.review.context import BASE, MESH_ROOT
from charts_py.review.model import BlastRadius
from charts_py.review.perimeter import WAYPOINT_CLASS
from charts_py.review.sides import EnvSide

Obj = dict[str, Any]
_AP = ("AuthorizationPolicy",)
_AP_VS = ("AuthorizationPolicy", "VirtualService")
_GATEWAY_ROUTES = ("HTTPRoute", "GRPCRoute")
_WAYPOINTS = ("Gateway.gateway.networking.k8s.io",)
"""Gateway API Gateways (by file name): a waypoint is one, of class istio-waypoint."""


@dataclass
class Index:
    """The policies, routes and sidecars of one cluster at one side, found by what they say."""

    side: EnvSide
    cluster: str

    def find(self, kinds: tuple[str, ...], *needles: str, absent: bool = False) -> list[Obj]:
        return self.side.find(kinds, needles, self.cluster, absent=absent)

    def callers(self, service: str | None, namespace: str) -> tuple[str, ...]:
        """Services admitted by the ALLOW policies that apply to `service` (its own, which name
        it, and the namespace-wide ones, which are not in the services chart), or any
        service of the namespace (`service` None: a namespace-wide change); for an external
        host, the workloads whose Sidecar lets them reach it. A waypoint is no caller: the
        policy that admits it (ztunnel's) passes on what the waypoint's policy admitted."""
        if service is not None and "." in service:
            return self._external_callers(service)
        out = {c for ap in self._allowing(service, namespace) for c in security.callers_of(ap)}
        return tuple(
            sorted(c for c in out - self._proxies(namespace) if not c.startswith(f"{MESH_ROOT}/"))
        )

    def behind_waypoint(self, service: str, namespace: str) -> bool:
        """Whether `service`'s pods admit a waypoint (ztunnel's policy, in ambient): its
        callers are then admitted by the waypoint's policies."""
        proxies = self._proxies(namespace)
        return any(security.callers_of(ap) & proxies for ap in self._allowing(service, namespace))

    def _allowing(self, service: str | None, namespace: str) -> list[Obj]:
        """The policies of `namespace` that apply to `service` (None: all of them): its own,
        which name it, and the namespace-wide ones, which are not in the services chart."""
        needle = service if service is not None else "kind:"  # None: every policy there
        own = self.side.find(_AP, (needle,), self.cluster, namespace=namespace)
        wide = [ap for ap in self.side.beside(_AP_VS, self.cluster) if ap.get("kind") == _AP[0]]
        return [
            ap for ap in own + wide
            if (ap.get("metadata") or {}).get("namespace") == namespace
            and (service is None or _applies(ap.get("spec") or {}, service))
        ]  # fmt: skip

    def _proxies(self, namespace: str) -> set[str]:
        """The cluster's waypoints as callers seen from `namespace`."""
        return {security.caller(p, namespace) for p in self._waypoints()}

    def _waypoints(self) -> list[str]:
        """The principals of the cluster's waypoints (Istio names a waypoint's service
        account after its Gateway)."""
        return [
            f"cluster.local/ns/{meta.get('namespace')}/sa/{meta.get('name')}"
            for gw in self.side.beside(_WAYPOINTS, self.cluster)
            if (gw.get("spec") or {}).get("gatewayClassName") == WAYPOINT_CLASS
            for meta in [gw.get("metadata") or {}]
        ]

    def _external_callers(self, host: str) -> tuple[str, ...]:
        out = set()
        for sidecar in self.find(("Sidecar",), host):
            spec = sidecar.get("spec") or {}
            hosts = [str(h) for e in spec.get("egress") or [] for h in (e or {}).get("hosts") or []]
            app = ((spec.get("workloadSelector") or {}).get("labels") or {}).get("app")
            if app and any(h.rsplit("/", 1)[-1] == host for h in hosts):
                out.add(str(app))
        return tuple(sorted(out))

    def ingress_hosts(self, service: str | None, namespace: str) -> tuple[str, ...]:
        """Hosts of the gateway-bound routes to `service` (None: to any service of the
        namespace)."""
        out: set[str] = set()
        routes = self.side.beside(_AP_VS, self.cluster)  # a service's own routes: mesh only
        for vs in (o for o in routes if o.get("kind") == "VirtualService"):
            spec = vs.get("spec") or {}
            if not any(g != "mesh" for g in spec.get("gateways") or []):
                continue
            own = (vs.get("metadata") or {}).get("namespace", "")
            if any(_routes_to(r, service, namespace, own) for r in spec.get("http") or []):
                out |= {str(h) for h in spec.get("hosts") or []}
        for route in self.side.beside(_GATEWAY_ROUTES, self.cluster):
            spec = route.get("spec") or {}
            if not any(
                (p or {}).get("kind", "Gateway") == "Gateway" for p in spec.get("parentRefs") or []
            ):
                continue  # GAMMA: a mesh route, attached to a Service
            own = (route.get("metadata") or {}).get("namespace", "")
            if any(_backs(r, service, namespace, own) for r in spec.get("rules") or []):
                out |= {str(h) for h in spec.get("hostnames") or []}
        return tuple(sorted(out))

    @functools.cached_property
    def jwt_paths(self) -> tuple[str, ...]:
        found = self.find(_AP, "notRequestPrincipals")
        return tuple(sorted({p for ap in found for p in security.jwt_paths(ap)}))

    def through_egress_gateway(self, host: str) -> bool:
        for vs in self.find(("VirtualService",), "egressgateway"):
            spec = vs.get("spec") or {}
            if host not in (spec.get("hosts") or []):
                continue
            for kind in ("http", "tls", "tcp"):
                for route in spec.get(kind) or []:
                    for d in (route or {}).get("route") or []:
                        if "egressgateway" in str(((d or {}).get("destination") or {}).get("host")):
                            return True
        return False


def _applies(spec: Obj, service: str) -> bool:
    """Whether a policy applies to `service`: it selects its pods (`app`), targets its Service
    or a waypoint (every service behind it), or selects nothing (namespace-wide)."""
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    refs = [r for r in spec.get("targetRefs") or [spec.get("targetRef")] if isinstance(r, dict)]
    if refs:
        return any(r.get("kind") == "Gateway" or r.get("name") == service for r in refs)
    return not labels or labels.get("app") == service


def _routes_to(route: Obj, service: str | None, namespace: str, own: str) -> bool:
    for d in (route or {}).get("route") or []:
        host = str(((d or {}).get("destination") or {}).get("host", ""))
        name, _, rest = host.partition(".")
        ns = rest.split(".", 1)[0] if rest else own
        if service in (name, None) and ns == namespace:
            return True
    return False


def _backs(rule: Obj, service: str | None, namespace: str, own: str) -> bool:
    """Whether a Gateway API route rule sends traffic to `service` (None: any) in `namespace`."""
    for ref in (rule or {}).get("backendRefs") or []:
        ref = ref or {}
        if ref.get("kind", "Service") != "Service" or ref.get("group", "") not in ("", "core"):
            continue
        if service in (ref.get("name"), None) and ref.get("namespace", own) == namespace:
            return True
    return False


@dataclass
class Cluster:
    """Both sides of one cluster: the `Context` classifiers ask, and blast radii."""

    base: Index | None
    head: Index | None

    def _at(self, side: str) -> Index | None:
        return self.base if side == BASE else self.head

    def jwt_paths(self, side: str) -> tuple[str, ...]:
        index = self._at(side)
        return index.jwt_paths if index else ()

    def through_egress_gateway(self, side: str, host: str) -> bool:
        index = self._at(side)
        return index.through_egress_gateway(host) if index else False

    def callers(self, side: str, service: str, namespace: str) -> tuple[str, ...]:
        index = self._at(side)
        return index.callers(service, namespace) if index else ()

    def behind_waypoint(self, side: str, service: str, namespace: str) -> bool:
        index = self._at(side)
        return index.behind_waypoint(service, namespace) if index else False

    def radius(self, service: str | None, namespace: str, removed: bool) -> BlastRadius:
        """Who calls `service` and which hosts reach it: at head, or at base if removed. A
        namespace-wide change (no service) reaches every service of its namespace; a
        mesh-wide or cluster-wide one has no list (the report says so)."""
        index = (self.base if removed else self.head) or self.base or self.head
        if index is None or (service is None and namespace in ("", MESH_ROOT)):
            return BlastRadius()
        return BlastRadius(
            index.callers(service, namespace), index.ingress_hosts(service, namespace)
        )


def for_cluster(base: EnvSide | None, head: EnvSide | None, cluster: str) -> Cluster:
    def index(side: EnvSide | None) -> Index | None:
        return Index(side, cluster) if side is not None and cluster in side.clusters else None

    return Cluster(index(base), index(head))
