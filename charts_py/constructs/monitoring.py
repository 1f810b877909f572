"""Scraping, SLO alerts and a dashboard, all derived from the same service list."""

from __future__ import annotations

import json
from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import ambient, installation
from charts_py.config.environment import Environment
from charts_py.config.model import Alerts, Cluster, Service, seconds
from charts_py.config.view import View
from charts_py.constructs.objects import emit

WINDOW = "5m"
DRIFT_RULE = "meshops-drift"
DRIFT_OBJECTS = "meshops_drift_objects"
DRIFT_COMPLETE = "meshops_drift_complete"
DRIFT_LAST_RUN = "meshops_drift_last_run_timestamp_seconds"
DRIFT_OLDEST = "meshops_drift_oldest_finding_age_seconds"
"""Metric names written by report/metrics.py (a unit test keeps the two in step)."""
DRIFT_STALE = "2d"
DRIFT_STALE_SECONDS = 2 * 86400
DASHBOARD_SERVICES = 50
"""Services per Grafana dashboard (3 panels each). One dashboard for every service would
outgrow a ConfigMap: the API server refuses more than 1 MiB of data (about 700 services),
and Grafana slows down well before that. Page 1 keeps the name of a single dashboard, so an
environment that grows past 50 services only adds pages."""


REPORTERS = {"sidecar": "destination", "ambient": "waypoint"}
"""Who reports a request's L7 metrics once, by the destination's data plane: its sidecar, or
the waypoint in front of it (istiod configures waypoints' stats as the server-side gateway
reporter, `reporter="waypoint"`; ztunnel reports TCP metrics only)."""


def _selector(namespace: str, service: str | None, reporter: str) -> str:
    labels = f'reporter="{reporter}",destination_workload_namespace="{namespace}"'
    return f'{labels},destination_service_name="{service}"' if service else labels


def reporter(env: Environment, namespace: str) -> str:
    """The `reporter` label of requests served in `namespace` (see REPORTERS)."""
    return REPORTERS["ambient" if namespace in env.ambient_namespaces else "sidecar"]


def error_ratio(namespace: str, service: str | None = None, by: str = "destination") -> str:
    """PromQL: share of 5xx responses, per service or for the whole namespace, as reported
    by `by` (REPORTERS)."""
    sel = _selector(namespace, service, by)
    return (
        f'sum(rate(istio_requests_total{{{sel},response_code=~"5.."}}[{WINDOW}]))'
        f" / sum(rate(istio_requests_total{{{sel}}}[{WINDOW}]))"
    )


def p99_latency(namespace: str, service: str | None = None, by: str = "destination") -> str:
    """PromQL: 99th percentile request duration in milliseconds."""
    sel = _selector(namespace, service, by)
    return (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(istio_request_duration_milliseconds_bucket{{{sel}}}[{WINDOW}])))"
    )


def request_rate(namespace: str, service: str, by: str = "destination") -> str:
    """PromQL: requests per second received by a service."""
    return f"sum(rate(istio_requests_total{{{_selector(namespace, service, by)}}}[{WINDOW}]))"


WAYPOINT_STATS = {
    "selector": {"matchLabels": {"gateway.istio.io/managed": "istio.io-mesh-controller"}},
    "podMetricsEndpoints": [
        {"port": "http-envoy-prom", "path": "/stats/prometheus", "interval": "30s"}
    ],
}
"""A namespace's waypoint pods, as istiod's waypoint template labels them and names their
Envoy's stats port (manifests/charts/istio-control/istio-discovery/files/waypoint.yaml)."""
ZTUNNEL_STATS = {
    "selector": {"matchLabels": dict(installation.ZTUNNEL.pod_labels)},
    "podMetricsEndpoints": [
        {"port": installation.ZTUNNEL_STATS_PORT, "path": "/stats/prometheus", "interval": "30s"}
    ],
}
"""ztunnel's pods (its DaemonSet in istio-system, which the control plane installs where a
namespace runs ambient: config/installation.py): the L4 metrics of every ambient workload on
the node."""


class Monitoring(Construct):
    """Envoy and istiod scraping, per-service and mesh-level alerts, a Grafana dashboard."""

    def __init__(self, scope: Construct, *, env: Environment, cluster: Cluster) -> None:
        super().__init__(scope, "monitoring")
        ns, root = env.spec.namespace, naming.MESH_ROOT
        envoy = {
            "selector": {
                "matchExpressions": [{"key": "security.istio.io/tlsMode", "operator": "Exists"}]
            },
            "podMetricsEndpoints": [
                {"port": "http-envoy-prom", "path": "/stats/prometheus", "interval": "30s"}
            ],
        }
        for app in env.namespaces:  # a PodMonitor selects pods of its own namespace only
            if not env.ambient(app):
                emit(self, kinds.POD_MONITOR, "envoy-stats", {"spec": envoy}, namespace=app.name)
            elif ambient.has_waypoint(env, app):
                spec = {"spec": WAYPOINT_STATS}
                emit(self, kinds.POD_MONITOR, "waypoint-stats", spec, namespace=app.name)
        if env.ambient_namespaces:
            emit(self, kinds.POD_MONITOR, "ztunnel", {"spec": ZTUNNEL_STATS}, namespace=root)
        istiod = {
            "selector": {"matchLabels": {"istio": "pilot"}},
            "endpoints": [{"port": "http-monitoring", "interval": "30s"}],
        }
        if env.mesh.managed:  # an out-of-band istiod: its namespace and labels are not ours
            emit(self, kinds.SERVICE_MONITOR, "istiod", {"spec": istiod}, namespace=root)
        for app in env.namespaces:  # each namespace's traffic as a whole
            alerts = env.namespace_default(app, "alerts")
            if not alerts.plain:
                continue  # switched off (`false`) for the namespace or the environment
            mesh_rules = _slo_rules(env, app.name, "Mesh", None, alerts)
            emit(
                self,
                kinds.PROMETHEUS_RULE,
                "mesh-slo",
                {"spec": {"groups": [{"name": "mesh-slo", "rules": mesh_rules}]}},
                namespace=app.name,
            )
        for svc in env.services:
            if not env.settings(svc).alerts:
                continue
            home = env.namespace_of(svc)
            rules = _slo_rules(env, home, _camel(svc.name), svc.name, env.traced(svc).alerts)
            group = {"name": f"{svc.name}-slo", "rules": rules}
            emit(
                self,
                kinds.PROMETHEUS_RULE,
                f"{svc.name}-slo",
                {"spec": {"groups": [group]}},
                namespace=home,
            )
        drift = {"groups": [{"name": DRIFT_RULE, "rules": drift_rules(env, cluster)}]}
        emit(self, kinds.PROMETHEUS_RULE, DRIFT_RULE, {"spec": drift}, namespace=ns)
        pages = _pages(env.services)
        for page, services in enumerate(pages, 1):
            suffix = "" if page == 1 else f"-{page}"
            dashboard = json.dumps(_dashboard(env, services, page, len(pages)), indent=2,
                                   sort_keys=True)  # fmt: skip
            emit(
                self,
                kinds.CONFIG_MAP,
                f"grafana-dashboard-{ns}{suffix}",
                {"data": {f"{ns}-mesh{suffix}.json": dashboard}},
                namespace=ns,
                labels={"grafana_dashboard": "1"},
            )


def severity(env: Environment) -> str:
    """Alerts page someone in prod; elsewhere they are warnings."""
    return "critical" if env.spec.profile == "prod" else "warning"


def drift_rules(env: Environment, cluster: Cluster) -> list[Any]:
    """Alerts on the nightly drift job's metrics (report/metrics.py) for this cluster: critical
    drift, a critical finding unwaived for longer than `drift.criticalFor`, a run that could
    not check everything, and no run for two days.

    Stale has two halves because an absent series yields no alert at all: `time() - max(...)`
    catches an old run, `absent_over_time` a job that never pushed, or whose series vanished
    (a Pushgateway restarted without persistence) two days ago. A silent job is no all-clear.
    """
    sel = f'env="{env.name}",cluster="{cluster.name}"'
    labels = {"severity": severity(env), "environment": env.name}
    where = "{{ $labels.env }}/{{ $labels.cluster }}"
    critical_for = env.spec.drift.critical_for
    persisting = seconds(critical_for)
    rules = [
        (
            "MeshopsDriftCritical",
            f'sum by (env, cluster) ({DRIFT_OBJECTS}{{{sel},status!="in-sync",'
            'severity="critical"}) > 0',
            f"Critical drift in {where}",
            "{{ $value }} objects differ from git with critical severity: see the drift report.",
        ),
        (
            "MeshopsDriftCriticalPersisting",
            f'max by (env, cluster) ({DRIFT_OLDEST}{{{sel},severity="critical"}}) > {persisting:g}',
            f"A critical drift finding in {where} has persisted for more than {critical_for}",
            "The oldest unwaived critical finding was first seen {{ $value | humanizeDuration }}"
            " before the last run: fix it, adopt it or waive it (drift.waivers).",
        ),
        (
            "MeshopsDriftIncomplete",
            f"min by (env, cluster) ({DRIFT_COMPLETE}{{{sel}}}) == 0",
            f"The last drift run in {where} was incomplete",
            "Some objects could not be checked (RBAC, timeout, unknown kind): not an all-clear.",
        ),
        (
            "MeshopsDriftStale",
            f"time() - max by (env, cluster) ({DRIFT_LAST_RUN}{{{sel}}}) > {DRIFT_STALE_SECONDS}"
            f" or absent_over_time({DRIFT_LAST_RUN}{{{sel}}}[{DRIFT_STALE}])",
            f"No drift run reported in {where} for two days",
            f"{DRIFT_LAST_RUN} is older than two days or absent: check the CronJob, its log"
            " and the Pushgateway.",
        ),
    ]
    return [
        {
            "alert": alert,
            "expr": expr,
            "for": "15m",
            "labels": labels,
            "annotations": {"summary": summary, "description": description},
        }
        for alert, expr, summary, description in rules
    ]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _slo_rules(
    env: Environment, namespace: str, prefix: str, service: str | None, traced: View
) -> list[Any]:
    """The error-ratio and latency alerts of a service (or the namespace), from its traced
    `alerts`, whose thresholds the expressions embed (transformed, not verbatim)."""
    alerts: Alerts = traced.plain
    by = reporter(env, namespace)
    who = f"service {service}" if service else f"namespace {namespace}"
    # `namespace` tells the alerts of two namespaces apart (each has its `Mesh*` pair, and
    # service names repeat across namespaces) and lets Alertmanager route a team's to it.
    labels = {"severity": severity(env), "environment": env.name, "namespace": namespace}
    if service:
        labels["service"] = service
    return [
        {
            "alert": f"{prefix}HighErrorRatio",
            "expr": traced.error_ratio.transformed(
                f"{error_ratio(namespace, service, by)} > {alerts.error_ratio:g}"
            ),
            "for": WINDOW,
            "labels": labels,
            "annotations": {
                "summary": f"More than {alerts.error_ratio:.0%} of requests to {who} fail with 5xx",
                "description": f"5xx ratio is {{{{ $value | humanizePercentage }}}} in {env.name}.",
            },
        },
        {
            "alert": f"{prefix}HighLatencyP99",
            "expr": traced.p99_latency_ms.transformed(
                f"{p99_latency(namespace, service, by)} > {alerts.p99_latency_ms}"
            ),
            "for": WINDOW,
            "labels": labels,
            "annotations": {
                "summary": f"p99 latency of {who} is above {alerts.p99_latency_ms} ms",
                "description": f"p99 is {{{{ $value }}}} ms in {env.name}.",
            },
        },
    ]


def _pages(services: list[Service]) -> list[list[Service]]:
    """The services in dashboard-sized pages, in the environment file's order."""
    size = DASHBOARD_SERVICES
    return [services[i : i + size] for i in range(0, len(services), size)]


def _dashboard(env: Environment, services: list[Service], page: int, pages: int) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    for row, svc in enumerate(services):
        panels += _service_panels(env, svc, row)
    title = f"{env.spec.namespace} mesh ({env.name})"
    uid = f"meshops-{env.name}-{env.spec.namespace}"[:40]
    if pages > 1:
        title = f"{title} {page}/{pages}"
    if page > 1:
        uid = f"{uid[: 39 - len(str(page))]}-{page}"
    return {
        "title": title,
        "uid": uid,
        "tags": ["meshops", "istio", env.name],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    }


def _service_panels(env: Environment, svc: Service, row: int) -> list[dict[str, Any]]:
    ns = env.namespace_of(svc)
    by = reporter(env, ns)
    shown = svc.name if ns == env.spec.namespace else f"{ns}/{svc.name}"
    queries = [
        ("requests/s", request_rate(ns, svc.name, by), "reqps"),
        ("5xx ratio", error_ratio(ns, svc.name, by), "percentunit"),
        ("p99 latency", p99_latency(ns, svc.name, by), "ms"),
    ]
    return [
        {
            "id": row * 3 + col + 1,
            "type": "timeseries",
            "title": f"{shown}: {title}",
            "gridPos": {"x": col * 8, "y": row * 8, "w": 8, "h": 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"expr": expr, "refId": "A"}],
        }
        for col, (title, expr, unit) in enumerate(queries)
    ]
