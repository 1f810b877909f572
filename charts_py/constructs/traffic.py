"""A service's traffic policy (DestinationRule) and routing (VirtualService)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment, Settings
from charts_py.config.model import Experiment, Service
from charts_py.config.source import FieldPath
from charts_py.constructs.objects import emit


def add_traffic(scope: Construct, env: Environment, service: Service) -> None:
    """How callers reach a service: load balancing, limits, ejection, subsets, routes."""
    ns = env.spec.namespace
    host = naming.fqdn(service.name, ns)
    settings = env.settings(service)
    rule = {
        "host": host,
        "trafficPolicy": traffic_policy(env, settings, env.service_path(service)),
        "subsets": [{"name": v.name, "labels": {"version": v.name}} for v in service.versions],
    }
    emit(scope, kinds.DESTINATION_RULE, service.name, {"spec": rule}, namespace=ns)
    routes = {"hosts": [host], "http": http_routes(env, service)}
    emit(scope, kinds.VIRTUAL_SERVICE, service.name, {"spec": routes}, namespace=ns)


def traffic_policy(env: Environment, settings: Settings, at: FieldPath) -> dict[str, Any]:
    """Load balancer (with locality failover across clusters), connection pool, ejection;
    `at` is the service's model path (its own outlier detection, else the policy's)."""
    policy = env.policy
    balancer: dict[str, Any] = {
        "simple": env.trace(("policy", "loadBalancer"), policy.load_balancer)
    }
    if env.multi_cluster:
        balancer["localityLbSetting"] = {"enabled": True, "failover": failover(env)}
    pool = policy.connection_pool
    pooled = ("policy", "connectionPool")
    out: dict[str, Any] = {
        "loadBalancer": balancer,
        "connectionPool": {
            "tcp": {"maxConnections": env.trace((*pooled, "maxConnections"), pool.max_connections)},
            "http": {
                "http1MaxPendingRequests": env.trace(
                    (*pooled, "http1MaxPendingRequests"), pool.http1_max_pending_requests
                ),
                "http2MaxRequests": env.trace(
                    (*pooled, "http2MaxRequests"), pool.http2_max_requests
                ),
            },
        },
    }
    if settings.outlier_detection:
        od = settings.outlier_detection
        ejection = (*at, "outlierDetection")
        out["outlierDetection"] = {
            "consecutive5xxErrors": env.trace(
                (*ejection, "consecutive5xxErrors"), od.consecutive_5xx_errors
            ),
            "interval": env.trace((*ejection, "interval"), od.interval),
            "baseEjectionTime": env.trace((*ejection, "baseEjectionTime"), od.base_ejection_time),
            "maxEjectionPercent": env.trace(
                (*ejection, "maxEjectionPercent"), od.max_ejection_percent
            ),
        }
    return out


def failover(env: Environment) -> list[dict[str, str]]:
    """Each region fails over to the next one in the file, the last back to the first."""
    regions = list(dict.fromkeys(c.region for c in env.spec.clusters))
    return [{"from": r, "to": regions[(i + 1) % len(regions)]} for i, r in enumerate(regions)]


def http_routes(env: Environment, service: Service) -> list[dict[str, Any]]:
    """The service's routing, for the mesh and (behind a path) for the ingress gateway.

    Gated experiment routes first (a request that asks for a fault gets it), then the
    default route, which an ungated experiment replaces (it then faults every request)."""
    host = naming.fqdn(service.name, env.spec.namespace)
    settings = env.settings(service)
    at = env.service_path(service)
    port = {"number": env.trace((*at, "port"), service.port)}
    destinations = [
        {
            "destination": {"host": host, "subset": v.name, "port": port},
            "weight": env.trace((*at, "versions", i, "weight"), v.weight),
        }
        for i, v in enumerate(service.versions)
    ]
    retries = (*at, "retries")
    default: dict[str, Any] = {
        "name": "default",
        "route": destinations,
        "timeout": env.trace((*at, "timeout"), settings.timeout),
        "retries": {
            "attempts": env.trace((*retries, "attempts"), settings.retries.attempts),
            "perTryTimeout": env.trace(
                (*retries, "perTryTimeout"), settings.retries.per_try_timeout
            ),
            "retryOn": env.trace((*retries, "retryOn"), settings.retries.retry_on),
        },
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
