"""What serves the HPAs' External metrics: prometheus-adapter `externalRules`, one per metric.

Every HPA scales on CPU, memory and one External metric (request rate from Istio's
`istio_requests_total`, or a queue's backlog). The External metrics API
(`external.metrics.k8s.io`) is answered by prometheus-adapter, which turns the HPA's metric
name and label selector into PromQL with these rules. The adapter itself (its Deployment,
APIService and RBAC) is installed out of band next to Prometheus, reading the ConfigMap below
(the name and namespace of the adapter's own deploy manifests); docs/synth.md says why this
and not KEDA. Template variables are the adapter's: `<<.Series>>` is the series name,
`<<.LabelMatchers>>` the HPA's selector plus the namespace mapped by `resources`.
"""

from __future__ import annotations

from typing import Any

import yaml
from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.constructs.baseline import KEEP
from charts_py.constructs.objects import emit

REQUEST_RATE_METRIC = "istio_requests_per_second"
QUEUE_BACKLOG_METRIC = "rabbitmq_queue_messages_ready"
CONFIG_KEY = "config.yaml"
RATE_WINDOW = "2m"
"""Four scrapes of the Envoy PodMonitor (30s): a rate that survives one missed scrape."""

RULES: dict[str, dict[str, Any]] = {
    REQUEST_RATE_METRIC: {
        # Requests received per second, as the destination sidecar counts them (the source
        # side would count retries and requests that never arrived).
        "seriesQuery": 'istio_requests_total{reporter="destination",'
        'destination_workload!="",destination_workload_namespace!=""}',
        "resources": {"overrides": {"destination_workload_namespace": {"resource": "namespace"}}},
        "name": {"matches": "^istio_requests_total$", "as": REQUEST_RATE_METRIC},
        # seriesQuery only discovers series: the adapter's query sees just the HPA's selector
        # and the namespace, so the reporter filter is repeated here (else both sidecars of
        # every call are counted, and the source side of calls from outside the namespace).
        "metricsQuery": 'sum(rate(<<.Series>>{reporter="destination",<<.LabelMatchers>>}'
        f"[{RATE_WINDOW}]))",
    },
    QUEUE_BACKLOG_METRIC: {
        # Messages ready for delivery, per queue, from RabbitMQ's Prometheus plugin (per-object
        # metrics) or its exporter. The broker is outside the cluster: its series carry no
        # namespace, and adapter rules are namespaced unless they say otherwise (the adapter
        # then fails every request: "unable to convert resource namespaces into label").
        "seriesQuery": 'rabbitmq_queue_messages_ready{queue!=""}',
        "resources": {"namespaced": False},
        "name": {"matches": "^rabbitmq_queue_messages_ready$", "as": QUEUE_BACKLOG_METRIC},
        "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>})",
    },
}


def used_metrics(env: Environment) -> list[str]:
    """The External metrics this environment's HPAs use, in a stable order."""
    used = set()
    for svc in env.services:
        if env.settings(svc).autoscaling:
            used.add(QUEUE_BACKLOG_METRIC if svc.queue else REQUEST_RATE_METRIC)
    return sorted(used)


ONE_REPORTER = 'reporter="destination"'
EITHER_REPORTER = 'reporter=~"destination|waypoint"'
"""With ambient namespaces, a request is counted once by whoever serves it: the destination's
sidecar, or the waypoint in front of an ambient pod (never both: an ambient pod has no
sidecar)."""


def adapter_config(env: Environment) -> str:
    """The adapter's config file: external rules only (metrics-server serves CPU and memory)."""
    rules = [RULES[name] for name in used_metrics(env)]
    if env.ambient_namespaces:
        rules = [
            {k: v.replace(ONE_REPORTER, EITHER_REPORTER) if isinstance(v, str) else v
             for k, v in rule.items()}
            for rule in rules
        ]  # fmt: skip
    return yaml.safe_dump({"externalRules": rules}, sort_keys=True, width=4096)


class MetricsAdapterRules(Construct):
    """The prometheus-adapter ConfigMap serving every External metric an HPA here uses."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, "metrics-adapter")
        if used_metrics(env):
            # Shared with Prometheus (installed out of band): never pruned or deleted by a sync.
            # Not injected: kube-apiserver calls the adapter directly over TLS, not via mTLS.
            emit(
                self,
                kinds.NAMESPACE,
                naming.ADAPTER_NAMESPACE,
                annotations=KEEP,
                labels={"istio-injection": "disabled"},
            )
            emit(
                self,
                kinds.CONFIG_MAP,
                naming.ADAPTER_CONFIG,
                {"data": {CONFIG_KEY: adapter_config(env)}},
                namespace=naming.ADAPTER_NAMESPACE,
            )
