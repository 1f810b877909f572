"""Autoscaling metrics: every External/Object/Pods metric an HPA uses is served by something in
the manifests. Without it the HPA reports `FailedGetExternalMetric` forever and scales on CPU
and memory alone, silently.

Served means: a prometheus-adapter rule (a ConfigMap whose config file holds `externalRules`
for External metrics, `rules` for the custom metrics API behind Object and Pods metrics) that
names the metric (`name.as`, or the series of a plain `seriesQuery`). An HPA KEDA generates for
a ScaledObject never reaches the manifests, so KEDA needs no case here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, dig, items, mapping

API = {"External": "externalRules", "Object": "rules", "Pods": "rules"}
"""HPA metric type -> the adapter config section that serves it."""
_SERIES = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def _served(scope: Scope) -> dict[tuple[str, str], Document]:
    """(config section, metric name) -> the ConfigMap whose adapter rule serves it."""
    served: dict[tuple[str, str], Document] = {}
    for config_map in scope.of(gk.CONFIG_MAP):
        for text in mapping(config_map.obj.get("data")).values():
            config = _adapter_config(text)
            for section in ("externalRules", "rules"):
                for rule in items(config.get(section)):
                    name = _metric_name(mapping(rule))
                    if name:
                        served.setdefault((section, name), config_map)
    return served


def _adapter_config(text: object) -> dict[str, object]:
    """The parsed file if it looks like prometheus-adapter's config, else empty."""
    if not isinstance(text, str) or "seriesQuery" not in text:
        return {}
    try:
        return mapping(yaml.safe_load(text))
    except yaml.YAMLError:
        return {}


def _metric_name(rule: dict[str, object]) -> str | None:
    renamed = dig(rule, "name", "as")
    if isinstance(renamed, str) and "$" not in renamed:
        return renamed
    series = _SERIES.match(str(rule.get("seriesQuery") or ""))
    return series.group(1) if series and renamed is None else None


@check("hpa-metric-served")
def hpa_metric_served(scope: Scope) -> Iterator[Outcome]:
    served = _served(scope)
    for hpa in scope.of(gk.HPA):
        for i, metric in enumerate(items(hpa.spec.get("metrics"))):
            kind = str(mapping(metric).get("type"))
            if kind not in API:
                continue
            name = dig(metric, kind.lower(), "metric", "name")
            at = pointer("spec", "metrics", i, kind.lower(), "metric", "name")
            source = served.get((API[kind], str(name)))
            if source is None:
                message = (
                    f"{kind} metric {name} is served by nothing in these manifests: add a "
                    f"prometheus-adapter {API[kind]} entry naming it"
                )
                yield fail(hpa, at, message)
            else:
                yield ok(hpa, at, f"served by ConfigMap {source.name}", evidence=source, at="/data")
