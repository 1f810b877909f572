"""Monitoring: every mesh Service alerted on, every alert expression valid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate import promql
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, fqdn, items, mapping, namespace

SERVICE_LABELS = ("destination_service_name", "destination_app", "service", "app", "job")
"""Label names an alert selects a service by (Istio's standard metrics, Kubernetes SD)."""


def _expressions(rule: Document) -> Iterator[tuple[str, str]]:
    for i, group in enumerate(items(rule.spec.get("groups"))):
        for j, item in enumerate(items(mapping(group).get("rules"))):
            if isinstance(item, dict) and item.get("alert") and item.get("expr"):
                yield pointer("spec", "groups", i, "rules", j, "expr"), str(item["expr"])


def _alerts_on(service: Document, expr: str) -> bool:
    names = "|".join(SERVICE_LABELS)
    if re.search(rf'\b({names})\s*=\s*"{re.escape(service.name)}"', expr):
        return True
    host = re.escape(fqdn(service.name, namespace(service)))
    return re.search(rf'\bdestination_service\s*=\s*"{host}"', expr) is not None


_MATCHER = re.compile(rf'\b({"|".join(SERVICE_LABELS)}|destination_service)\s*=\s*"([^"]*)"')
"""An expression's `label="value"` matchers that can select a service (by name or host)."""


def _first_alerts(exprs: list[str]) -> dict[tuple[bool, str], int]:
    """(by host?, value) -> index of the first expression with that matcher.

    With one PrometheusRule per service, testing every service against every expression was
    quadratic; this makes it a lookup. Each matcher found here is one `_alerts_on` finds too;
    services found nowhere are rescanned with `_alerts_on`, so each passes or fails as before.
    """
    first: dict[tuple[bool, str], int] = {}
    for i, expr in enumerate(exprs):
        for label, value in _MATCHER.findall(expr):
            first.setdefault((label == "destination_service", value), i)
    return first


@check("service-alerts")
def service_alerts(scope: Scope) -> Iterator[Outcome]:
    meshed = {ns.name for ns in scope.injected_namespaces()}
    alerts = [(r, at, e) for r in scope.of(gk.PROMETHEUS_RULE) for at, e in _expressions(r)]
    first = _first_alerts([e for _, _, e in alerts])
    for service in scope.of(gk.SERVICE):
        if namespace(service) not in meshed:
            continue
        keys = ((False, service.name), (True, fqdn(service.name, namespace(service))))
        found = [first[k] for k in keys if k in first]
        hit = alerts[min(found)] if found else None
        if hit is None:
            hit = next((a for a in alerts if _alerts_on(service, a[2])), None)
        if hit is None:
            yield fail(service, "/metadata/name", "no PrometheusRule alert selects this service")
        else:
            message = f"alert in PrometheusRule {hit[0].name}"
            yield ok(service, "/metadata/name", message, evidence=hit[0], at=hit[1])


@check("prometheus-rule-expr")
def prometheus_rule_expr(scope: Scope) -> Iterator[Outcome]:
    rules = scope.of(gk.PROMETHEUS_RULE)
    specs: list[dict[str, Any]] = [r.spec for r in rules]
    found = promql.problems(specs) if specs else []
    bad = {index for index, _, _ in found}
    for index, at, message in found:
        yield fail(rules[index], at, message)
    for index, rule in enumerate(rules):
        if index not in bad:
            count = sum(1 for _ in _expressions(rule))
            yield ok(rule, "/spec/groups", f"{count} alert expressions pass {promql.engine()}")
