"""A service's traffic policy (DestinationRule) and routing (VirtualService)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import waivers
from charts_py.config.environment import Environment
from charts_py.config.model import Experiment, Service, Version
from charts_py.config.view import View
from charts_py.constructs import istio_spec
from charts_py.constructs.objects import emit


def add_traffic(scope: Construct, env: Environment, service: Service) -> None:
    """How callers reach a service: load balancing, limits, ejection, subsets, routes."""
    ns = env.namespace_of(service)
    host = naming.fqdn(service.name, ns)
    if service.destination_rule is None:
        _destination_rule(scope, env, service, host)
    if ns in env.ambient_namespaces:
        return  # routed by its waypoint, if it needs one (constructs/ambient.py)
    routes: dict[str, Any] = {"hosts": [host]}
    if service.routed:
        svc = env.traced(service)
        routes |= {key: istio_spec.body(svc.step(key)) for key in ROUTES if getattr(service, key)}
        if len(routes) == 1:
            return  # `http: []`: no VirtualService (callers reach every version, Kubernetes-style)
    else:
        routes["http"] = http_routes(env, service)
    name = naming.kept(service, "virtual_service")
    waived = waivers.suppression(env, ("fault-injection",), ns) if service.fault else {}
    spec = {"spec": routes}
    emit(scope, kinds.VIRTUAL_SERVICE, name, spec, namespace=ns, annotations=waived)


def _destination_rule(scope: Construct, env: Environment, service: Service, host: str) -> None:
    rule: dict[str, Any] = {"host": host}
    policy = _own_traffic_policy(env, service)
    if policy is None:
        policy = traffic_policy(env, service)
    if policy:
        rule["trafficPolicy"] = policy
    rule["subsets"] = [_subset(service, version) for version in env.traced(service).versions]
    name = naming.kept(service, "destination_rule")
    ns = env.namespace_of(service)
    emit(scope, kinds.DESTINATION_RULE, name, {"spec": rule}, namespace=ns)


ROUTES = ("http", "tcp", "tls")
"""A service's routes in Istio's terms, rendered as written (`Service.routed`)."""


def _own_traffic_policy(env: Environment, service: Service) -> dict[str, Any] | None:
    """The service's `trafficPolicy` as written (`{}` when it asks for none), else None."""
    if service.traffic_policy is None:
        return None
    found: dict[str, Any] = istio_spec.body(env.traced(service).traffic_policy)
    return found


def _subset(service: Service, version: View) -> dict[str, Any]:
    """A version's subset: its pods' labels (as written, else `subset_labels`), its policy."""
    subset: dict[str, Any] = {"name": version.name.plain}
    if version.labels.plain is None:
        subset["labels"] = subset_labels(service, version.plain)
    else:
        subset["labels"] = istio_spec.body(version.labels)
    if version.traffic_policy.plain is not None:
        subset["trafficPolicy"] = istio_spec.body(version.traffic_policy)
    return subset


def traffic_policy(env: Environment, service: Service) -> dict[str, Any]:
    """Load balancer (with locality failover across clusters), connection pool, ejection
    (the service's own outlier detection, else the policy's)."""
    svc = env.traced(service)
    balancer: dict[str, Any] = {}
    if svc.load_balancer.plain:
        balancer["simple"] = svc.load_balancer.traced()
    if env.multi_cluster:
        balancer["localityLbSetting"] = {"enabled": True, "failover": failover(env)}
    out: dict[str, Any] = {"loadBalancer": balancer} if balancer else {}
    pool = svc.connection_pool
    if pool.plain:
        out["connectionPool"] = {
            "tcp": {"maxConnections": pool.max_connections.traced()},
            "http": {
                "http1MaxPendingRequests": pool.http1_max_pending_requests.traced(),
                "http2MaxRequests": pool.http2_max_requests.traced(),
            },
        }
    od = svc.outlier_detection
    if od.plain:
        out["outlierDetection"] = {
            "consecutive5xxErrors": od.consecutive_5xx_errors.traced(),
            "interval": od.interval.traced(),
            "baseEjectionTime": od.base_ejection_time.traced(),
            "maxEjectionPercent": od.max_ejection_percent.traced(),
        }
    return out


def subset_labels(service: Service, version: Version) -> dict[str, str]:
    """A subset's pods: `version: <name>`; for the single version of pods someone else
    deploys, their selector (they need not carry a version label)."""
    if service.workload is not None and len(service.versions) == 1:
        return naming.pods(service)
    return {"version": version.name}


def failover(env: Environment) -> list[dict[str, str]]:
    """Each region fails over to the next one in the file, the last back to the first."""
    regions = list(dict.fromkeys(c.region for c in env.spec.clusters))
    return [{"from": r, "to": regions[(i + 1) % len(regions)]} for i, r in enumerate(regions)]


def service_http(env: Environment, service: Service) -> list[dict[str, Any]]:
    """The service's HTTP routes: as written in `http`, else those of its shorthand."""
    if service.routed:
        return list(istio_spec.body(env.traced(service).http)) if service.http else []
    return http_routes(env, service)


def http_routes(env: Environment, service: Service) -> list[dict[str, Any]]:
    """The service's routing, for the mesh and (behind a path) for the ingress gateway.

    Gated experiment routes first (a request that asks for a fault gets it), then the
    default route, which an ungated experiment replaces (it then faults every request)."""
    host = naming.fqdn(service.name, env.namespace_of(service))
    svc = env.traced(service)
    # With several ports, a route keeps the port a request came on (no port named).
    port = {"port": {"number": svc.port.traced()}} if service.ports is None else {}
    destinations = [
        {
            "destination": {"host": host, "subset": v.name.plain, **port},
            "weight": v.weight.traced(),
        }
        for v in svc.versions
    ]
    default: dict[str, Any] = {"name": "default", "route": destinations}
    if svc.timeout.plain:
        default["timeout"] = svc.timeout.traced()
    retries = svc.retries
    if retries.plain:
        default["retries"] = {
            "attempts": retries.attempts.traced(),
            "perTryTimeout": retries.per_try_timeout.traced(),
            "retryOn": retries.retry_on.traced(),
        }
    routes: list[dict[str, Any]] = []
    for exp in env.experiments(service):
        faulty = {**default, "name": exp.name, "fault": _fault(exp)}
        if exp.header is None:
            default = faulty
        else:
            routes.append(
                {**faulty, "match": [{"headers": {exp.header.name: {"exact": exp.header.value}}}]}
            )
    return [*routes, default]


def _fault(experiment: Experiment) -> dict[str, Any]:
    """Istio's HTTPFaultInjection: the one rendering of a fault, shorthand or experiment."""
    percentage = {"value": experiment.percent}
    out: dict[str, Any] = {}
    if experiment.delay:
        out["delay"] = {"fixedDelay": experiment.delay, "percentage": percentage}
    if experiment.abort:
        out["abort"] = {"httpStatus": experiment.abort, "percentage": percentage}
    return out
