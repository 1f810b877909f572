"""Every External metric an HPA uses is served by a prometheus-adapter rule: the adapter's own
code (scripts/adapter_check, the pinned module) loads the rules and builds each HPA's query,
and promtool (`promql_expr_test`) shows that query selects the right Istio/RabbitMQ series."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import naming
from charts_py.constructs import metrics_adapter
from charts_py.render.manifest import Manifest
from tests import tools
from tests.unit.test_alert_rules import CLUSTERS

STEP = 60
AT = "10m"


def under(rendered: list[Manifest], prefix: str, kind: str) -> list[dict[str, Any]]:
    return [m.obj for m in rendered if m.path.startswith(prefix + "/") and m.obj["kind"] == kind]


def adapter_rules(rendered: list[Manifest], prefix: str) -> dict[str, dict[str, Any]]:
    [config] = [
        c for c in under(rendered, prefix, "ConfigMap") if c["metadata"]["name"] == "adapter-config"
    ]
    assert config["metadata"]["namespace"] == naming.ADAPTER_NAMESPACE
    parsed = yaml.safe_load(config["data"][metrics_adapter.CONFIG_KEY])
    assert set(parsed) == {"externalRules"}
    return {rule["name"]["as"]: rule for rule in parsed["externalRules"]}


def external_metrics(hpa: dict[str, Any]) -> list[dict[str, Any]]:
    return [m["external"]["metric"] for m in hpa["spec"]["metrics"] if m["type"] == "External"]


@pytest.mark.parametrize("prefix", [f"{e.name}/{c.name}" for e, c in CLUSTERS])
def test_every_hpa_metric_is_served_and_every_rule_is_used(
    rendered: list[Manifest], prefix: str
) -> None:
    rules = adapter_rules(rendered, prefix)
    used = {m["name"] for hpa in under(rendered, prefix, "HorizontalPodAutoscaler")
            for m in external_metrics(hpa)}  # fmt: skip
    assert used and used == set(rules)


@pytest.fixture(scope="module")
def adapter_check() -> str:
    """prometheus-adapter's config loader and query builder (scripts/adapter_check), pinned."""
    return str(tools.pinned("adapter-check"))


def adapter_queries(
    binary: str, rendered: list[Manifest], prefix: str, tmp_path: Path
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(HPA metric, the adapter's answer) for every External metric of every HPA here."""
    [config] = [
        c for c in under(rendered, prefix, "ConfigMap") if c["metadata"]["name"] == "adapter-config"
    ]
    path = tmp_path / "config.yaml"
    path.write_text(config["data"][metrics_adapter.CONFIG_KEY])
    asked = [
        (hpa["metadata"]["namespace"], metric)
        for hpa in under(rendered, prefix, "HorizontalPodAutoscaler")
        for metric in external_metrics(hpa)
    ]
    requests = [
        {
            "metric": m["name"],
            "namespace": ns,
            "selector": m.get("selector", {}).get("matchLabels", {}),
        }
        for ns, m in asked
    ]
    done = subprocess.run(
        [binary, str(path)],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    return list(zip([m for _, m in asked], answers, strict=True))


@pytest.mark.parametrize("prefix", [f"{e.name}/{c.name}" for e, c in CLUSTERS])
def test_the_adapter_loads_the_rules_and_answers_every_hpa(
    rendered: list[Manifest], prefix: str, adapter_check: str, tmp_path: Path
) -> None:
    """Loaded strictly (unknown keys fail) and resolved by the adapter's own code."""
    for metric, answer in adapter_queries(adapter_check, rendered, prefix, tmp_path):
        assert answer.get("query"), f"{metric['name']}: {answer.get('error')}"


def envoy_series(workloads: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Workload i, a (namespace, name), receives i+1 requests/s (destination reporter); the
    source side of the same calls reports 100/s, and must not be counted."""
    out = []
    for i, (namespace, workload) in enumerate(workloads):
        for reporter, rate in (("destination", i + 1), ("source", 100)):
            labels = (
                f'reporter="{reporter}",destination_workload="{workload}",'
                f'destination_workload_namespace="{namespace}",response_code="200"'
            )
            out.append(
                {"series": f"istio_requests_total{{{labels}}}", "values": f"0+{rate * STEP}x20"}
            )
    return out


QUEUES = [
    {
        "series": 'rabbitmq_queue_messages_ready{queue="order-events",vhost="/"}',
        "values": "50+0x20",
    },
    {"series": 'rabbitmq_queue_messages_ready{queue="audit",vhost="/"}', "values": "999+0x20"},
]


@pytest.mark.parametrize("prefix", ["prod/prod-east", "dev/dev-1"])
def test_adapter_queries_select_what_envoy_and_rabbitmq_export(
    rendered: list[Manifest], prefix: str, adapter_check: str, tmp_path: Path
) -> None:
    promtool = tools.require("promtool")
    rules = adapter_rules(rendered, prefix)
    hpas = under(rendered, prefix, "HorizontalPodAutoscaler")
    workloads = sorted(
        (h["metadata"]["namespace"], h["spec"]["scaleTargetRef"]["name"]) for h in hpas
    )
    tests = []
    for metric, answer in adapter_queries(adapter_check, rendered, prefix, tmp_path):
        selector = metric.get("selector", {}).get("matchLabels", {})
        if metric["name"] == metrics_adapter.REQUEST_RATE_METRIC:
            at = (selector["destination_workload_namespace"], selector["destination_workload"])
            value = workloads.index(at) + 1
        else:
            value = 50 if selector == {"queue": "order-events"} else 0
        samples = [{"labels": "{}", "value": value}] if value else []
        tests.append({"expr": answer["query"], "eval_time": AT, "exp_samples": samples})
    for name, rule in rules.items():  # the series the adapter discovers: destination side only
        found = envoy_series(workloads) if name.startswith("istio") else QUEUES
        wanted = [s for s in found if 'reporter="source"' not in s["series"]]
        samples = [{"labels": s["series"], "value": _last(s["values"])} for s in wanted]
        tests.append({"expr": rule["seriesQuery"], "eval_time": AT, "exp_samples": samples})
    spec = {
        "evaluation_interval": f"{STEP}s",
        "tests": [
            {
                "interval": f"{STEP}s",
                "input_series": envoy_series(workloads) + QUEUES,
                "promql_expr_test": tests,
            }
        ],
    }
    (tmp_path / "adapter.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run(
        [promtool, "test", "rules", "adapter.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _last(values: str) -> float:
    """The value at AT of a promtool series `a+bxn` or `axn` (10 steps of 1m)."""
    start, _, _ = values.partition("x")
    base, _, slope = start.partition("+")
    return float(base) + float(slope or 0) * 10
