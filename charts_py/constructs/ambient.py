"""What a namespace in ambient mode holds instead of sidecars: its waypoint, GAMMA routes,
and authorization split between ztunnel (L4, by selector) and the waypoint (L7, by targetRefs).

Rendered as Istio documents it (istio.io "Configure waypoint proxies", "Use Layer 7
features", "Ztunnel and L4 policy"; Gateway API GAMMA): a waypoint is a Gateway of class
`istio-waypoint` with one HBONE listener on 15008, labelled `istio.io/waypoint-for: service`;
a Service opts in with `istio.io/use-waypoint`; routes attach to the Service (`parentRefs`
kind Service) and split between Services, one per version. A service behind a waypoint is
reached by the waypoint's identity, so ztunnel admits that identity and the waypoint admits the
callers (config/ambient.py says which services need one).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import ambient, gamma
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.config.teams import Namespace
from charts_py.constructs import traffic
from charts_py.constructs.objects import emit

SERVICE_REF = {"group": "", "kind": "Service"}


def namespace_labels(env: Environment, ns: Namespace) -> dict[str, Any]:
    """An ambient namespace's labels: its data plane, and the waypoint for every Service when
    one that needs it is not meshops's to label (`workload.service: theirs`)."""
    labels: dict[str, Any] = {ambient.DATAPLANE_LABEL: env.dataplane(ns).traced()}
    theirs = [s for s in ns.services if not ambient.uses_own_service(s)]
    if any(ambient.behind_waypoint(env, svc) for svc in theirs):
        labels[ambient.USE_WAYPOINT_LABEL] = ambient.WAYPOINT
    return labels


def service_labels(env: Environment, service: Service) -> dict[str, str]:
    """The labels of a service's own Service: its waypoint, when it needs one."""
    if ambient.behind_waypoint(env, service):
        return {ambient.USE_WAYPOINT_LABEL: ambient.WAYPOINT}
    return {}


def add_waypoint(scope: Construct, ns: str) -> None:
    """The namespace's waypoint; istiod deploys it (Deployment, Service, ServiceAccount)."""
    spec = {
        "gatewayClassName": ambient.WAYPOINT_CLASS,
        "listeners": [{"name": "mesh", "port": ambient.HBONE_PORT, "protocol": "HBONE"}],
    }
    labels = {ambient.WAYPOINT_FOR_LABEL: "service"}
    emit(
        scope,
        kinds.GATEWAY_API_GATEWAY,
        ambient.WAYPOINT,
        {"spec": spec},
        namespace=ns,
        labels=labels,
    )


def add_routes(scope: Construct, env: Environment, service: Service) -> None:
    """A service's GAMMA route (HTTPRoute, or GRPCRoute when gRPC needs no more than it
    says), and a Service for each version it routes to."""
    ns = env.namespace_of(service)
    rules = _rules(env, service)
    parent = {**SERVICE_REF, "name": service.name}
    kind = kinds.GRPC_ROUTE if _grpc(service, rules) else kinds.HTTP_ROUTE
    spec = {"parentRefs": [parent], "rules": rules}
    emit(scope, kind, naming.kept(service, "virtual_service"), {"spec": spec}, namespace=ns)
    used = {ref["name"] for rule in rules for ref in rule.get("backendRefs", [])}
    for version in env.traced(service).versions:
        name = ambient.version_service(service.name, version.name.plain)
        if name in used:
            emit(scope, kinds.SERVICE, name, {"spec": _version_spec(env, service, version)},
                 namespace=ns)  # fmt: skip


def _rules(env: Environment, service: Service) -> list[dict[str, Any]]:
    backend = ambient.backends(env, env.namespace_of(service))
    port = env.traced(service).port.traced()
    return [gamma.rule(route, backend, port)[0] for route in traffic.service_http(env, service)]


def _grpc(service: Service, rules: list[dict[str, Any]]) -> bool:
    """GRPCRoute says weights and no more (no timeouts, no retries): a gRPC service that
    needs those gets an HTTPRoute, which Istio applies to its HTTP/2 traffic alike."""
    plain = all(set(rule) <= {"name", "backendRefs"} for rule in rules)
    return service.protocol == "grpc" and not service.routed and plain


def _version_spec(env: Environment, service: Service, version: Any) -> dict[str, Any]:
    """One version's Service: the service's ports, its version's pods."""
    svc = env.traced(service)
    labels = version.labels.plain or traffic.subset_labels(service, version.plain)
    spec: dict[str, Any] = {"selector": {**naming.pods(service), **labels}}
    if service.ports is not None:
        spec["ports"] = [{"name": p.name.traced(), "port": p.port.traced()} for p in svc.ports]
    else:
        name = service.protocol
        spec["ports"] = [{"name": name, "port": svc.port.traced(), "appProtocol": name}]
    return spec


def add_access(scope: Construct, env: Environment, service: Service, callers: list[Any]) -> None:
    """Who may call `service`: ztunnel admits the callers by principal (selector-based, L4),
    or, behind a waypoint, admits the waypoint (and the ingress gateway, which does not use
    it) while the waypoint admits the callers (targetRefs, L7)."""
    ns = env.namespace_of(service)
    name = naming.kept(service, "authorization_policy")
    selector = {"matchLabels": naming.pods(service)}
    ports = [{"operation": {"ports": access_ports(service)}}]
    if not ambient.behind_waypoint(env, service):
        rule = {"from": [{"source": {"principals": callers}}], "to": ports}
        spec = {"selector": selector, "action": "ALLOW", "rules": [rule]}
        emit(scope, kinds.AUTHORIZATION_POLICY, name, {"spec": spec}, namespace=ns)
        return
    ingress = naming.ingress_principal(env)
    via = [c for c in callers if gamma.plain(c) != ingress]
    # No caller through the waypoint: ztunnel must not admit it either (the waypoint itself
    # denies nothing without an ALLOW policy of its own).
    direct: list[Any] = [naming.waypoint_principal(ns)] if via else []
    direct += [c for c in callers if gamma.plain(c) == ingress]
    if direct:
        rule = {"from": [{"source": {"principals": direct}}], "to": ports}
        spec = {"selector": selector, "action": "ALLOW", "rules": [rule]}
        emit(scope, kinds.AUTHORIZATION_POLICY, name, {"spec": spec}, namespace=ns)
    if via:
        rule = {"from": [{"source": {"principals": via}}]}
        target = {**SERVICE_REF, "name": service.name}
        spec = {"targetRefs": [target], "action": "ALLOW", "rules": [rule]}
        emit(scope, kinds.AUTHORIZATION_POLICY, f"{name}-waypoint", {"spec": spec}, namespace=ns)


def access_ports(service: Service) -> list[str]:
    """The service's port numbers as AuthorizationPolicy spells them (strings)."""
    if service.ports is None:
        return [str(service.port)]
    return [str(port.target_port or port.port) for port in service.ports]


def targeted(spec: dict[str, Any], service: Service) -> dict[str, Any]:
    """`spec` attached to the service's waypoint (targetRefs its Service), unless it selects
    or targets on its own."""
    if any(key in spec for key in ("selector", "targetRef", "targetRefs", "workloadSelector")):
        return spec
    return {**spec, "targetRefs": [{**SERVICE_REF, "name": service.name}]}
