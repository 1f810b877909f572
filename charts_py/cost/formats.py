"""Cost reports as text (terminals, CI logs), Markdown (PRs, wikis) and JSON (scripts).

Every format states the method and the assumptions next to the numbers, so an estimate is
never mistaken for a bill. Clusters that run exactly the same services (every primary of a
multi-primary mesh) share one table in text and Markdown; JSON lists each cluster.

JSON shape (`schemaVersion` 2): `{"schemaVersion", "method": {...}, "environments": [{"env",
"profile", "rates": {"currency", "cpuPerCoreHour", "memoryPerGiBHour", "hoursPerMonth",
"nodes"}, "clusters": [{"cluster", "services": [{"service", "dataplane", "deployments",
"autoscaled", "replicas", "pod": {"app", "proxy"}, "cpu", "memoryGiB", "monthly", "scoping"}],
"ambient": [{"name", "namespace", "perNode", "replicas", "pod", "cpu", "memoryGiB",
"monthly", "monthlyPerPod"}], "total"}], "total", "scopingSavedMonthly"}]}`, keys in that
order; ranges are `{"min", "max"}` at the minimum and maximum replica counts; money is rounded
to cents, cores and GiB to 3 decimals, MiB to 1. Version 2 added `dataplane`, `ambient` and
`rates.nodes`: an ambient service's `pod.proxy` is zero and its `scoping` null (no sidecar); a
node agent's `replicas` is null when `cost.nodes` is unset (then it counts as nothing in the
totals and `monthlyPerPod` is its price per node).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from charts_py.cost import estimate
from charts_py.cost.estimate import (
    AmbientPods,
    ClusterCost,
    EnvironmentCost,
    Range,
    Requests,
    ServiceCost,
)
from charts_py.docs.markdown import table

SCHEMA_VERSION = 2
METHOD = (
    "requests (app container + Envoy sidecar; in ambient namespaces no sidecar, and the "
    "cluster's ztunnel and istio-cni per node and a waypoint per namespace that has one) x "
    f"replicas x rate x {estimate.HOURS_PER_MONTH} hours, at the minimum and maximum replica "
    "counts"
)
SCOPING_METHOD = (
    f"proxy config memory ~ {estimate.BASE_MIB} MiB + {estimate.MIB_PER_HOST} MiB "
    "per visible host; without scoping a proxy sees every service and external service of the "
    "namespace plus the mesh root (the default Sidecar), with scoping its Sidecar's egress hosts"
)


def _round(value: Decimal, places: int) -> Decimal:
    """Half up, as prices are rounded (Python's round() would round half to even)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _num(value: Decimal, places: int) -> int | float:
    """A JSON number: rounded, and an int when whole (`256`, not `256.0`)."""
    rounded = _round(value, places)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _fixed(value: Decimal, places: int) -> str:
    """Text with a fixed number of decimals and thousands separators."""
    return f"{_round(value, places):,.{places}f}"


def _cores(value: Decimal) -> str:
    return f"{_round(value, 3).normalize():f}"


def _gib(value: Decimal) -> str:
    return f"{_round(value / estimate.GIB, 3).normalize():f}"


def _millicores(value: Decimal) -> str:
    return f"{(value * 1000).normalize():f}m"


def _mebibytes(value: Decimal) -> str:
    return f"{(value / estimate.MIB).normalize():f}Mi"


def _pod(svc: ServiceCost) -> tuple[str, str]:
    app, proxy = svc.app, svc.proxy
    if svc.dataplane == "ambient":  # no sidecar to add
        return f"{_millicores(app.cpu)} (ambient)", f"{_mebibytes(app.memory)} (ambient)"
    cpu = f"{_millicores(app.cpu)}+{_millicores(proxy.cpu)}"
    return cpu, f"{_mebibytes(app.memory)}+{_mebibytes(proxy.memory)}"


def _span(r: Range, show: Any) -> str:
    return f"{show(r.min)}..{show(r.max)}"


def _groups(env: EnvironmentCost) -> list[tuple[list[str], ClusterCost]]:
    """Clusters with identical costs, grouped (file order kept)."""
    out: list[tuple[list[str], ClusterCost]] = []
    for cluster in env.clusters:
        same = next(
            (
                g
                for g in out
                if (g[1].services, g[1].ambient) == (cluster.services, cluster.ambient)
            ),
            None,
        )
        if same:
            same[0].append(cluster.cluster)
        else:
            out.append(([cluster.cluster], cluster))
    return out


def _label(names: list[str]) -> str:
    return ", ".join(names) + (" (each)" if len(names) > 1 else "")


def _rates_line(env: EnvironmentCost) -> str:
    r = env.rates
    return (
        f"{r.currency} {r.cpu_per_core_hour} per vCPU-hour, {r.currency} {r.memory_per_gib_hour} "
        f"per GiB-hour, {estimate.HOURS_PER_MONTH} hours a month"
    )


def _service_row(svc: ServiceCost) -> list[str]:
    cpu, memory = _pod(svc)
    fixed = "" if svc.autoscaled else " fixed"
    return [
        svc.service,
        str(svc.deployments),
        f"{svc.min_replicas}..{svc.max_replicas}{fixed}",
        cpu,
        memory,
        _span(svc.cpu, _cores),
        _span(svc.memory, _gib),
        _span(svc.monthly, lambda v: _fixed(v, 2)),
    ]


def _ambient_row(pods: AmbientPods) -> list[str]:
    """A node agent (per node) or a namespace's waypoint; per node only when the node count
    is unknown."""
    name = f"{pods.name} ({pods.namespace})"
    pod = [_millicores(pods.pod.cpu), _mebibytes(pods.pod.memory)]
    if pods.replicas is None:
        per_node = [_cores(pods.pod.cpu), _gib(pods.pod.memory), _fixed(pods.per_pod_monthly, 2)]
        return [name, "", "per node", *pod, *(f"{v} per node" for v in per_node)]
    replicas = f"{pods.replicas} node{'s' * (pods.replicas != 1)}" if pods.per_node else "1"
    return [
        name,
        "",
        replicas,
        *pod,
        _span(pods.cpu, _cores),
        _span(pods.memory, _gib),
        _span(pods.monthly, lambda v: _fixed(v, 2)),
    ]


def _cluster_rows(cluster: ClusterCost) -> list[list[str]]:
    rows = [_service_row(s) for s in cluster.services]
    rows += [_ambient_row(p) for p in cluster.ambient]
    total = ["total", "", "", "", ""]
    total += [_span(cluster.total("cpu"), _cores), _span(cluster.total("memory"), _gib)]
    total.append(_span(cluster.total("monthly"), lambda v: _fixed(v, 2)))
    return [*rows, total]


def _header(currency: str) -> list[str]:
    return [
        "service",
        "deployments",
        "replicas",
        "pod CPU (app+proxy)",
        "pod memory (app+proxy)",
        "CPU cores",
        "memory GiB",
        f"{currency}/month",
    ]


def _scoping_rows(cluster: ClusterCost) -> list[list[str]]:
    mib = estimate.MIB
    rows = [
        [
            s.service,
            f"{s.scoping.hosts_without} -> {s.scoping.hosts_with}",
            f"{s.scoping.proxy_mib(False):f} -> {s.scoping.proxy_mib(True):f}",
            _span(s.saved_memory, lambda v: f"{(v / mib).normalize():f}"),
        ]
        for s in cluster.services
        if s.scoping is not None  # an ambient service has no sidecar to scope
    ]
    saved = _span(cluster.total("saved_memory"), lambda v: f"{(v / mib).normalize():f}")
    return [*rows, ["total", "", "", saved]]


SCOPING_HEADER = ["service", "hosts seen", "MiB per proxy", "MiB saved (all pods)"]


def _summary(env: EnvironmentCost) -> str:
    money = _span(env.total("monthly"), lambda v: _fixed(v, 2))
    clusters = f"{len(env.clusters)} cluster{'' if len(env.clusters) == 1 else 's'}"
    return (
        f"{env.env}: {env.rates.currency} {money} a month over {clusters} "
        f"(CPU {_span(env.total('cpu'), _cores)} cores, "
        f"memory {_span(env.total('memory'), _gib)} GiB)"
    )


def _unpriced(env: EnvironmentCost) -> list[str]:
    """The node agents left out of the totals (no `cost.nodes`), with their price per node."""
    agents = {p.name: p for c in env.clusters for p in c.unpriced_nodes}
    if not agents:
        return []
    per_node = sum((p.per_pod_monthly for p in agents.values()), Decimal(0))
    names = ", ".join(sorted(agents))
    return [
        f"Not in these totals: ambient's node agents ({names}) at {env.rates.currency} "
        f"{_fixed(per_node, 2)} a month per node of each cluster; set `cost.nodes` to count them"
    ]


def _scoping_summary(env: EnvironmentCost) -> str:
    saved = env.total("saved_memory")
    money = _span(env.saved_monthly(), lambda v: _fixed(v, 2))
    return (
        f"Sidecar scoping saves ~{_span(saved, _gib)} GiB of proxy memory in {env.env} "
        f"(~{env.rates.currency} {money} a month if proxy memory requests were lowered to match)"
    )


def markdown(envs: Sequence[EnvironmentCost]) -> str:
    """One section per environment: a table per group of identical clusters, then scoping."""
    lines: list[str] = []
    for env in envs:
        lines += [f"## Cost: {env.env} (profile {env.profile})", ""]
        lines += [f"Rates: {_rates_line(env)}. Method: {METHOD}.", ""]
        for names, cluster in _groups(env):
            lines += [f"### {_label(names)}", ""]
            lines += [*table(_header(env.rates.currency), _cluster_rows(cluster)), ""]
        lines += [f"**{_summary(env)}.**", ""]
        lines += [f"{line}.\n" for line in _unpriced(env)]
        lines += ["### Sidecar scoping (estimate)", ""]
        lines += [f"Method: {SCOPING_METHOD}.", ""]
        for names, cluster in _groups(env):
            lines += [f"{_label(names)}:", "", *table(SCOPING_HEADER, _scoping_rows(cluster))]
            lines.append("")
        lines += [f"{_scoping_summary(env)}.", ""]
    return "\n".join(lines)


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the others right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def text(envs: Sequence[EnvironmentCost]) -> str:
    """Aligned tables per environment and group of identical clusters, then scoping."""
    lines: list[str] = []
    for env in envs:
        lines += [f"{env.env} (profile {env.profile}): {_rates_line(env)}", f"method: {METHOD}"]
        for names, cluster in _groups(env):
            lines += ["", f"{_label(names)}:"]
            lines += _aligned([_header(env.rates.currency), *_cluster_rows(cluster)])
        lines += ["", _summary(env), *_unpriced(env)]
        lines += ["", f"Sidecar scoping (estimate: {SCOPING_METHOD}):"]
        for names, cluster in _groups(env):
            lines += [f"{_label(names)}:", *_aligned([SCOPING_HEADER, *_scoping_rows(cluster)])]
        lines += [_scoping_summary(env), ""]
    return "\n".join(lines)


def _range(r: Range, places: int, scale: Decimal = Decimal(1)) -> dict[str, int | float]:
    return {"min": _num(r.min / scale, places), "max": _num(r.max / scale, places)}


def _requests_json(req: Requests) -> dict[str, int | float]:
    return {"cpu": _num(req.cpu, 3), "memoryMiB": _num(req.memory / estimate.MIB, 1)}


def _scoping_json(svc: ServiceCost) -> dict[str, Any] | None:
    scoping = svc.scoping
    if scoping is None:
        return None
    return {
        "hostsWithout": scoping.hosts_without,
        "hostsWith": scoping.hosts_with,
        "proxyMiBWithout": _num(scoping.proxy_mib(False), 1),
        "proxyMiBWith": _num(scoping.proxy_mib(True), 1),
        "savedMiB": _range(svc.saved_memory, 1, estimate.MIB),
    }


def _service_json(svc: ServiceCost) -> dict[str, Any]:
    return {
        "service": svc.service,
        "dataplane": svc.dataplane,
        "deployments": svc.deployments,
        "autoscaled": svc.autoscaled,
        "replicas": {"min": svc.min_replicas, "max": svc.max_replicas},
        "pod": {"app": _requests_json(svc.app), "proxy": _requests_json(svc.proxy)},
        **_measures_json(svc),
        "scoping": _scoping_json(svc),
    }


def _measures_json(item: ServiceCost | AmbientPods) -> dict[str, Any]:
    """What the pods of a service, or ambient's pods, request and cost in all."""
    return {
        "cpu": _range(item.cpu, 3),
        "memoryGiB": _range(item.memory, 3, estimate.GIB),
        "monthly": _range(item.monthly, 2),
    }


def _ambient_json(pods: AmbientPods) -> dict[str, Any]:
    return {
        "name": pods.name,
        "namespace": pods.namespace,
        "perNode": pods.per_node,
        "replicas": pods.replicas,
        "pod": _requests_json(pods.pod),
        **_measures_json(pods),
        "monthlyPerPod": _num(pods.per_pod_monthly, 2),
    }


def _totals_json(node: ClusterCost | EnvironmentCost) -> dict[str, Any]:
    return {
        "cpu": _range(node.total("cpu"), 3),
        "memoryGiB": _range(node.total("memory"), 3, estimate.GIB),
        "monthly": _range(node.total("monthly"), 2),
        "scopingSavedMiB": _range(node.total("saved_memory"), 1, estimate.MIB),
    }


def _environment_json(env: EnvironmentCost) -> dict[str, Any]:
    rates = env.rates
    return {
        "env": env.env,
        "profile": env.profile,
        "rates": {
            "currency": rates.currency,
            "cpuPerCoreHour": float(rates.cpu_per_core_hour),
            "memoryPerGiBHour": float(rates.memory_per_gib_hour),
            "hoursPerMonth": int(estimate.HOURS_PER_MONTH),
            "nodes": env.nodes,
        },
        "clusters": [
            {
                "cluster": c.cluster,
                "services": [_service_json(s) for s in c.services],
                "ambient": [_ambient_json(p) for p in c.ambient],
                "total": _totals_json(c),
            }
            for c in env.clusters
        ],
        "total": _totals_json(env),
        "scopingSavedMonthly": _range(env.saved_monthly(), 2),
    }


def json_text(envs: Sequence[EnvironmentCost]) -> str:
    """The JSON report (shape in this module's docstring), two-space indent."""
    method = {
        "cost": METHOD,
        "scoping": SCOPING_METHOD,
        "scopingBaseMiB": _num(estimate.BASE_MIB, 1),
        "scopingMiBPerHost": _num(estimate.MIB_PER_HOST, 1),
    }
    report = {
        "schemaVersion": SCHEMA_VERSION,
        "method": method,
        "environments": [_environment_json(e) for e in envs],
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": json_text}
