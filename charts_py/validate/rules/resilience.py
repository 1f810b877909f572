"""Resilience: timeouts and retry budgets, outlier detection, locality failover, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, dig, duration, http_routes, items, mapping


@check("route-budget")
def route_budget(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for at, route in http_routes(vs):
            found = route.get("retries")
            retries: dict[str, Any] = found if isinstance(found, dict) else {}
            attempts = retries.get("attempts")
            per_try = duration(retries.get("perTryTimeout"))
            timeout = duration(route.get("timeout"))
            if not isinstance(attempts, int) or attempts < 1 or per_try is None or timeout is None:
                continue
            budget = per_try * (attempts + 1)
            summary = (
                f"timeout {route['timeout']} vs {attempts + 1} tries x {retries['perTryTimeout']}"
            )
            if timeout + 1e-9 < budget:
                yield fail(vs, f"{at}/timeout", f"{summary}: the last tries can never run")
            else:
                yield ok(vs, f"{at}/timeout", summary)


@check("route-timeouts")
def route_timeouts(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for at, route in http_routes(vs):
            if duration(route.get("timeout")) is None:
                yield fail(vs, at, "HTTP route without `timeout`: a slow upstream holds callers")
                continue
            retries = route.get("retries")
            if (
                isinstance(retries, dict)
                and retries.get("attempts", 0)
                and not (retries.get("perTryTimeout"))
            ):
                yield fail(vs, f"{at}/retries", "retries without perTryTimeout")
                continue
            yield ok(vs, f"{at}/timeout", f"timeout {route['timeout']}")


def _policies(rule: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, trafficPolicy) of a DestinationRule and of each of its subsets."""
    if isinstance(rule.spec.get("trafficPolicy"), dict):
        yield pointer("spec", "trafficPolicy"), rule.spec["trafficPolicy"]
    for i, subset in enumerate(items(rule.spec.get("subsets"))):
        if isinstance(subset, dict) and isinstance(subset.get("trafficPolicy"), dict):
            yield pointer("spec", "subsets", i, "trafficPolicy"), subset["trafficPolicy"]


@check("outlier-detection")
def outlier_detection(scope: Scope) -> Iterator[Outcome]:
    for rule in scope.of(gk.DESTINATION_RULE):
        top = mapping(rule.spec.get("trafficPolicy"))
        if isinstance(top, dict) and top.get("outlierDetection"):
            yield ok(rule, "/spec/trafficPolicy/outlierDetection", "outlier detection set")
        else:
            yield fail(rule, "/spec/trafficPolicy", "no outlierDetection: failing hosts stay")


@check("locality-failover-outlier")
def locality_failover_outlier(scope: Scope) -> Iterator[Outcome]:
    for rule in scope.of(gk.DESTINATION_RULE):
        top = mapping(rule.spec.get("trafficPolicy"))
        for at, policy in _policies(rule):
            locality = mapping(dig(policy, "loadBalancer", "localityLbSetting"))
            if not (locality.get("failover") or locality.get("failoverPriority")):
                continue
            if policy.get("outlierDetection") or top.get("outlierDetection"):
                yield ok(rule, f"{at}/outlierDetection", "failover with outlier detection")
            else:
                message = "locality failover without outlierDetection never fails over"
                yield fail(rule, f"{at}/loadBalancer/localityLbSetting", message)


@check("fault-injection")
def fault_injection(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for at, route in http_routes(vs):
            if route.get("fault"):
                yield fail(vs, f"{at}/fault", "route injects faults")


@check("fault-injection-gated")
def fault_injection_gated(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for at, route in http_routes(vs):
            if not route.get("fault"):
                continue
            matches = items(route.get("match"))
            gated = bool(matches) and all(isinstance(m, dict) and m.get("headers") for m in matches)
            if not gated:
                yield fail(
                    vs, f"{at}/fault", "faults hit every request: no header match gates them"
                )
