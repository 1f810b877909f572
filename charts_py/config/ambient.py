"""Ambient mode: which services need a waypoint, and what an ambient namespace cannot say.

In ambient, ztunnel on each node carries a namespace's traffic at L4 (mTLS, identity, L4
authorization); anything that reads a request (routing, retries, timeouts, Envoy's load
balancing and ejection, L7 authorization, JWT, HTTP metrics) happens in a waypoint, and only
for the services that use one (istio.io, "Configure waypoint proxies": "Do you need a
waypoint proxy?"). So a service gets the namespace's waypoint exactly when it asks for one of
those; what ambient cannot do at all is refused when the file is loaded, naming the rule and
the alternative (docs/ambient.md, "Edges").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from charts_py import kinds, provenance
from charts_py.config import gamma, istio_checks, source
from charts_py.config.model import Service

if TYPE_CHECKING:
    from charts_py.config.environment import Environment
    from charts_py.config.teams import Namespace

WAYPOINT = "waypoint"
"""A namespace's waypoint (Gateway and, istiod's, Deployment, Service, ServiceAccount), named
as `istioctl waypoint apply` names it."""
WAYPOINT_CLASS = "istio-waypoint"
HBONE_PORT = 15008
DATAPLANE_LABEL = "istio.io/dataplane-mode"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"

L4_SOURCE = frozenset(
    {"principals", "notPrincipals", "namespaces", "notNamespaces", "ipBlocks", "notIpBlocks",
     "serviceAccounts", "notServiceAccounts"}
)  # fmt: skip
L4_OPERATION = frozenset({"ports", "notPorts"})
L4_CONDITIONS = frozenset(
    {"source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"}
)
"""What ztunnel can enforce (istio.io, "Ztunnel and L4 policy"): a policy reading anything
else is L7 and belongs on the waypoint (with a selector, ztunnel turns it into a DENY)."""

RULES = {
    "fault": "waypoint-fault-retries",
    "retry": "waypoint-fault-retries",
    "envoyfilter": "envoy-filter-waypoint",
    "route": "ambient-route-field",
    "tcp": "ambient-tcp-routes",
}
"""The rule each load error of an ambient namespace names: validate's rule for the same edge
in rendered manifests where there is one (docs/validate.md), else a rule of the model's own
(docs/ambient.md lists them)."""

Problem = tuple[source.Source, source.FieldPath, str]


def l7_policy(spec: dict[str, Any]) -> bool:
    """Whether an AuthorizationPolicy spec (as YAML spells it) reads anything beyond L4."""
    if spec.get("action") == "CUSTOM":
        return True  # an external authorizer sees the request
    for rule in spec.get("rules") or []:
        for found in rule.get("from") or []:
            if set(found.get("source") or {}) - L4_SOURCE:
                return True
        for found in rule.get("to") or []:
            if set(found.get("operation") or {}) - L4_OPERATION:
                return True
        if any(c["key"] not in L4_CONDITIONS for c in rule.get("when") or []):
            return True
    return False


def dumped(model: Any) -> dict[str, Any]:
    """An Istio structure of the file as YAML spells it (only what the file sets)."""
    found: dict[str, Any] = model.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
    return found


def behind_waypoint(env: Environment, service: Service) -> bool:
    """Whether `service` runs in an ambient namespace and needs its waypoint."""
    if env.namespace_of(service) not in env.ambient_namespaces:
        return False
    return bool(waypoint_reasons(env, service))


def has_waypoint(env: Environment, ns: Namespace) -> bool:
    """Whether ambient namespace `ns` needs a waypoint (a service of it does)."""
    return env.ambient(ns) and any(behind_waypoint(env, svc) for svc in ns.services)


def waypoint_reasons(env: Environment, service: Service) -> list[str]:
    """Why `service` needs a waypoint in ambient (empty: ztunnel alone serves it)."""
    settings = env.settings(service)
    own = {
        "splits traffic across versions": len(service.versions) > 1 and not service.routed,
        "routes requests (`http`)": bool(service.http),
        "a route timeout": settings.timeout is not None and not service.routed,
        "retries": settings.retries is not None and not service.routed,
        "Envoy load balancing, connection pool or ejection (DestinationRule)": _traffic(
            service, settings
        ),
        "JWT validation (requestAuthentications)": bool(service.request_authentications),
        "HTTP metrics for its alerts": settings.alerts is not None,
    }
    reasons = [reason for reason, needed in own.items() if needed]
    for policy in service.authorization_policies:
        if l7_policy(dumped(policy)):
            reasons.append(f"L7 authorization ({policy.name})")
    if any(ext.kind == "WasmPlugin" for ext in service.extensions):
        reasons.append("a WasmPlugin")
    return reasons


def _traffic(service: Service, settings: Any) -> bool:
    if service.traffic_policy is not None:
        return bool(dumped(service.traffic_policy))
    return any((settings.load_balancer, settings.connection_pool, settings.outlier_detection))


def problems(env: Environment) -> Iterator[Problem]:
    """What an ambient namespace of `env` asks for that ambient cannot do."""
    for ns in env.namespaces:
        if not env.ambient(ns):
            continue
        for i, svc in enumerate(ns.services):
            yield from ((ns.raw, (*ns.at, i, *at), why) for at, why in _service(env, ns, svc))
        if ns.name == env.spec.namespace:
            for j, ext in enumerate(env.spec.extensions):
                if ext.kind == "EnvoyFilter":
                    yield env.raw, ("extensions", j), _envoy_filter()
            for j, _experiment in enumerate(env.spec.experiments):
                yield env.raw, ("experiments", j), _rule("fault", gamma.UNSAID["fault"])


def _service(
    env: Environment, ns: Namespace, svc: Service
) -> Iterator[tuple[source.FieldPath, str]]:
    if svc.fault is not None:
        yield ("fault",), _rule("fault", gamma.UNSAID["fault"])
    for key in ("tcp", "tls"):
        if getattr(svc, key):
            why = (
                "TCPRoute and TLSRoute are in Gateway API's experimental channel and meshops "
                f"renders no ambient routes for them: {gamma.KEEP_SIDECAR}"
            )
            yield (key,), _rule("tcp", why)
    backend = backends(env, ns.name)
    for j, route in enumerate(svc.http or []):
        _, found = gamma.rule(dumped(route), backend, svc.port)
        for at, why in found:
            yield ("http", j, *at), _rule("route", why)
    retries = env.settings(svc).retries
    if retries is not None and not svc.routed:
        _, lost = gamma.retry_codes(retries.retry_on)
        if lost:
            seen = env.traced(svc).retries.retry_on
            written = isinstance(seen.origin, provenance.EnvField)
            where = f"set at {source.dotted(seen.where)}" if written else "the default"
            why = f"retryOn {retries.retry_on!r} ({where}): {gamma.retry_on_reason(lost)}"
            yield ("retries",), _rule("retry", why)
    for j, ext in enumerate(svc.extensions):
        if ext.kind == "EnvoyFilter":
            yield ("extensions", j), _envoy_filter()


def _envoy_filter() -> str:
    return _rule(
        "envoyfilter",
        "EnvoyFilter does not apply to waypoints or ztunnel: write a WasmPlugin (meshops "
        f"targets it at the service's waypoint), {gamma.KEEP_SIDECAR}",
    )


def _rule(key: str, reason: str) -> str:
    return f"{reason} (rule {RULES[key]})"


def uses_own_service(service: Service) -> bool:
    """Whether meshops renders the service's Kubernetes Service (and can label it)."""
    return service.workload is None or service.workload.service == "meshops"


def backends(env: Environment, namespace: str) -> gamma.Backend:
    """The Service a route's destination names, for routes in `namespace`: the service itself,
    or one version's own Service (`<service>-<version>`, see `version_service`)."""
    mine = {svc.name: svc for svc in env.namespaces_by_name[namespace].services}

    def backend(host: Any, subset: Any) -> str | None:
        name = _short(str(gamma.plain(host)), namespace)
        if name not in mine:
            return None
        if subset is None or _whole(mine[name], str(gamma.plain(subset))):
            return name
        return version_service(name, str(gamma.plain(subset)))

    return backend


def _whole(service: Service, subset: str) -> bool:
    """Whether a subset is all of the service's pods: its only version, selected by the
    version label meshops sets on every pod of it (not labels of its own)."""
    (first, *others) = service.versions
    return not others and first.name == subset and first.labels is None


def _short(host: str, namespace: str) -> str:
    """A host's service name when it is one of `namespace` (`svc`, `svc.ns`, the FQDN)."""
    for suffix in (f".{namespace}.svc.cluster.local", f".{namespace}.svc", f".{namespace}"):
        if host.endswith(suffix):
            return host.removesuffix(suffix)
    return host if "." not in host else ""


def version_service(service: str, version: str) -> str:
    """The Service of one version's pods: an HTTPRoute splits between Services, not subsets
    (as Istio's bookinfo-versions.yaml does for its ambient samples)."""
    return f"{service}-{version}"


def gateway_api_kinds(env: Environment) -> tuple[kinds.Kind, ...]:
    """The Gateway API kinds `env` may emit: those of its typed lists (`httpRoutes`, ...),
    and Gateway, HTTPRoute and GRPCRoute once a namespace is ambient or the ingress is
    Gateway API's (`ingress.api: gateway-api`)."""
    ingress = env.spec.ingress
    uses = env.ambient_namespaces or (ingress is not None and ingress.api == "gateway-api")
    listed = istio_checks.gateway_api_kinds(env.wide_blocks)
    used = {*(kinds.AMBIENT_GATEWAY_API_KINDS if uses else ()), *listed}
    return tuple(k for k in kinds.GATEWAY_API_KINDS if k in used)
