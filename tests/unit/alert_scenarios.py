"""promtool unit tests (`promtool test rules`) for every alert meshops generates, built from the
series a real run produces: the drift gauges are `metrics.text()` of a Report plus the
Pushgateway's grouping labels (exactly what `meshops drift --pushgateway` pushes and Prometheus
scrapes with `honor_labels`), the SLO inputs are Istio's standard metrics as Envoy sidecars
export them (`istio_requests_total`, `istio_request_duration_milliseconds_bucket` with
`reporter`, `destination_workload`, `destination_service_name`, ...).

Expected values are computed here from the environment (thresholds) and Prometheus' own
arithmetic (rate over evenly spaced samples, `histogram_quantile`'s linear interpolation), so a
rule whose threshold, selector or template drifts from the config fails.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from charts_py import naming
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster, Service
from charts_py.drift.model import (
    Change,
    Difference,
    Finding,
    GitSource,
    ObjectRef,
    Report,
    Result,
    Severity,
    State,
    Status,
    finding_id,
)
from charts_py.report import metrics, pushgateway

STEP = 60  # seconds between samples and between rule evaluations
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # promtool's clock starts at 0
BUCKETS = (
    0.5,
    1,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    30000,
    60000,
    300000,
    600000,
    1800000,
    3600000,
    math.inf,
)
"""Istio's default request-duration buckets (ms)."""
FAST_MS = 3.0
DRIFT_ALERTS = (
    "MeshopsDriftCritical",
    "MeshopsDriftCriticalPersisting",
    "MeshopsDriftIncomplete",
    "MeshopsDriftStale",
)

Series = dict[str, str]
Expected = dict[str, list[dict[str, Any]]]  # alertname -> exp_alerts


# --- what a drift run pushes -------------------------------------------------------------------

GIT = GitSource("HEAD", "0" * 40, "dist")
PEER_AUTH = ObjectRef("security.istio.io/v1", "PeerAuthentication", "istio-system", "default")
DEPLOYMENT = ObjectRef("apps/v1", "Deployment", "shop", "cart-v1")
ACCOUNT = ObjectRef("v1", "ServiceAccount", "shop", "cart")
POLICY = ObjectRef("security.istio.io/v1", "AuthorizationPolicy", "shop", "cart")
MTLS = Difference(
    path="/spec/mtls/mode",
    change=Change.CHANGED,
    desired="STRICT",
    live="PERMISSIVE",
    manager="kubectl-edit",
    operation="Update",
    time="1970-01-01T00:00:00Z",
    severity=Severity.CRITICAL,
)


def run(cluster: str, env: str, *results: Result) -> Report:
    """A run that finished at promtool's time 0."""
    stamp = EPOCH.isoformat().replace("+00:00", "Z")
    return Report(
        env=env,
        cluster=cluster,
        git=GIT,
        started_at=stamp,
        finished_at=stamp,
        results=(Result(ACCOUNT, Status.IN_SYNC), *results),
    )


def clean_run(env: str, cluster: str) -> Report:
    return run(cluster, env)


def critical_run(env: str, cluster: str) -> Report:
    medium = Result(DEPLOYMENT, Status.MODIFIED, severity=Severity.MEDIUM)
    return run(
        cluster,
        env,
        Result(PEER_AUTH, Status.MODIFIED, (MTLS,), severity=Severity.CRITICAL),
        medium,
    )


def persisting_critical_run(env: str, cluster: str, age: timedelta) -> Report:
    """Critical drift whose finding was first seen `age` before the run (history read)."""
    first = (EPOCH - age).isoformat().replace("+00:00", "Z")
    finding = Finding(finding_id(PEER_AUTH, MTLS.path), State.PERSISTING, first, 2)
    tracked = dataclasses.replace(MTLS, finding=finding)
    report = run(
        cluster,
        env,
        Result(PEER_AUTH, Status.MODIFIED, (tracked,), severity=Severity.CRITICAL),
    )
    return dataclasses.replace(report, resolved=())


def incomplete_run(env: str, cluster: str) -> Report:
    return run(cluster, env, Result(POLICY, Status.UNKNOWN, error="forbidden"))


_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)\{(?P<labels>.*)\} (?P<value>\S+)$")


def pushed(report: Report, steps: int) -> list[Series]:
    """The series Prometheus holds after scraping the Pushgateway: metrics.text() of the run
    with the grouping labels added, constant for `steps` samples."""
    out = []
    group = ",".join(f'{k}="{v}"' for k, v in pushgateway.grouping(report) if k == "job")
    for line in metrics.text(report, 1.5).splitlines():
        match = _SAMPLE.match(line)
        if match:
            series = f"{match['name']}{{{match['labels']},{group}}}"
            out.append({"series": series, "values": f"{match['value']}+0x{steps}"})
    return out


# --- what Envoy sidecars export -----------------------------------------------------------------


def workload(service: Service) -> str:
    return naming.workload(service.name, service.versions[0].name)


def istio(
    env: Environment,
    services: Sequence[Service],
    steps: int,
    *,
    failing: Iterable[str] = (),
    slow: dict[str, float] | None = None,
) -> list[Series]:
    """One request per second to each service, answered 200 (503 by `failing` ones), in FAST_MS
    or `slow[name]` ms: the counters Envoy reports as the destination proxy."""
    latency = slow or {}
    return [
        s
        for svc in services
        for s in _service_series(env, svc, steps, svc.name in failing, latency.get(svc.name))
    ]


def _labels(env: Environment, svc: Service) -> str:
    ns = env.namespace_of(svc)
    # In an ambient namespace the waypoint in front of the pods reports the request (istiod
    # configures its stats as the server-side gateway reporter), not a sidecar.
    reporter, job = ("waypoint", "waypoint-stats") if ns in env.ambient_namespaces else (
        "destination", "envoy-stats")  # fmt: skip
    return (
        f'reporter="{reporter}",source_workload="istio-ingressgateway",'
        f'destination_workload="{workload(svc)}",destination_workload_namespace="{ns}",'
        f'destination_service="{svc.name}.{ns}.svc.cluster.local",'
        f'destination_service_name="{svc.name}",destination_service_namespace="{ns}",'
        f'request_protocol="{svc.protocol}",job="{job}"'
    )


def _service_series(
    env: Environment, svc: Service, steps: int, failing: bool, latency: float | None
) -> Iterable[Series]:
    labels = _labels(env, svc)
    code = "503" if failing else "200"
    yield {
        "series": f'istio_requests_total{{{labels},response_code="{code}"}}',
        "values": f"0+{STEP}x{steps}",
    }
    observed = FAST_MS if latency is None else latency
    for bound in BUCKETS:
        le = "+Inf" if bound == math.inf else f"{bound:g}"
        per_step = STEP if observed <= bound else 0
        yield {
            "series": f'istio_request_duration_milliseconds_bucket{{{labels},le="{le}"}}',
            "values": f"0+{per_step}x{steps}",
        }


def slow_latency(threshold_ms: int) -> float:
    """An observation in the first bucket wholly above the threshold: p99 lands above it."""
    lower = next(b for b in BUCKETS[:-2] if b >= threshold_ms)
    upper = BUCKETS[BUCKETS.index(lower) + 1]
    return (lower + upper) / 2


def p99(latencies: Sequence[float]) -> float:
    """histogram_quantile(0.99, ...) of one request/s per latency, as Prometheus computes it
    (promql/quantile.go bucketQuantile: linear interpolation inside the bucket)."""
    counts = [float(sum(1 for v in latencies if v <= b)) for b in BUCKETS]
    rank = 0.99 * counts[-1]
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(BUCKETS) - 1:
        return float(BUCKETS[-2])
    start, count = 0.0, counts[index]
    if index > 0:
        start = float(BUCKETS[index - 1])
        count -= counts[index - 1]
        rank -= counts[index - 1]
    return start + (BUCKETS[index] - start) * (rank / count)


# --- expected alerts -----------------------------------------------------------------------------


def go_number(value: float) -> str:
    """`{{ $value }}`: Go's %v of a float64 (shortest repr; checked range only)."""
    assert 1e-4 <= abs(value) < 1e5 or value == 0, f"format {value} by hand"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def humanize_percentage(value: float) -> str:
    """Prometheus' humanizePercentage for values whose percentage is in [1, 1000)."""
    percent = value * 100
    assert 1 <= percent < 1000, percent
    return f"{percent:.4g}%"


def humanize_duration(value: float) -> str:
    """Prometheus' humanizeDuration for a minute or more: `1d 1h 0m 0s`, `2h 0m 5s`."""
    assert value >= 60, value
    whole = int(value)
    days, hours = whole // 86400, whole // 3600 % 24
    minutes, secs = whole // 60 % 60, whole % 60
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def render(template: str, labels: dict[str, str], value: float) -> str:
    """The few template forms meshops uses; anything else must be added here on purpose."""
    out = template
    if "{{ $value | humanizeDuration }}" in out:
        out = out.replace("{{ $value | humanizeDuration }}", humanize_duration(value))
    if "{{ $value | humanizePercentage }}" in out:
        out = out.replace("{{ $value | humanizePercentage }}", humanize_percentage(value))
    if "{{ $value }}" in out:
        out = out.replace("{{ $value }}", go_number(value))
    for name, label in labels.items():
        out = out.replace(f"{{{{ $labels.{name} }}}}", label)
    assert "{{" not in out, f"untested template form in {template!r}"
    return out


def alert(rule: dict[str, Any], value: float, labels: dict[str, str]) -> dict[str, Any]:
    every = {**labels, **rule["labels"]}
    notes = {k: render(v, every, value) for k, v in rule["annotations"].items()}
    return {"exp_labels": every, "exp_annotations": notes}


def test_case(
    series: list[Series], expected: Iterable[tuple[int, Expected]], name: str
) -> dict[str, Any]:
    """One promtool test group: input series, then per eval time the alerts expected."""
    tests = [
        {"eval_time": f"{minute}m", "alertname": name_, "exp_alerts": alerts}
        for minute, table in expected
        for name_, alerts in sorted(table.items())
    ]
    return {"name": name, "interval": f"{STEP}s", "input_series": series, "alert_rule_test": tests}


def cluster_scope(cluster: Cluster, env: Environment) -> dict[str, str]:
    return {"env": env.name, "cluster": cluster.name}


def hours(n: float) -> int:
    return int(timedelta(hours=n).total_seconds() // 60)
