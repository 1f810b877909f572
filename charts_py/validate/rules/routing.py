"""Routing references: weights, subsets, hosts, one VirtualService per host, sync order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.scope import (
    Scope,
    destinations,
    items,
    mesh_bound,
    namespace,
    resolve,
    wave,
)


@check("route-weights")
def route_weights(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of("VirtualService"):
        for protocol in ("http", "tls", "tcp"):
            for i, route in enumerate(items(vs.spec.get(protocol))):
                targets = route.get("route") if isinstance(route, dict) else None
                if isinstance(targets, list):
                    yield from _weights(vs, pointer("spec", protocol, i, "route"), targets)


def _weights(vs: Document, at: str, targets: list[Any]) -> Iterator[Outcome]:
    weights = [t.get("weight") if isinstance(t, dict) else None for t in targets]
    if len(targets) == 1 and weights[0] in (None, 100):
        return
    for j, weight in enumerate(weights):
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            yield fail(vs, f"{at}/{j}/weight", f"weight must be an integer 0-100, got {weight!r}")
            return
    total = sum(w for w in weights if isinstance(w, int))
    if total != 100:
        yield fail(vs, at, f"destination weights sum to {total}, not 100 ({weights})")


@check("subset-exists")
def subset_exists(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of("VirtualService"):
        ns = namespace(vs)
        for at, dest in destinations(vs):
            subset = dest.get("subset")
            if not subset:
                continue
            host = resolve(str(dest.get("host", "")), ns)
            rule = scope.destination_rule(host, ns)
            if rule is None:
                yield fail(vs, f"{at}/subset", f"no DestinationRule for {host} defines subsets")
                continue
            names = [s.get("name") for s in items(rule.spec.get("subsets")) if isinstance(s, dict)]
            if subset not in names:
                where = f"DestinationRule {namespace(rule)}/{rule.name}"
                yield fail(vs, f"{at}/subset", f"subset {subset!r} is not in {where} ({names})")


@check("host-resolves")
def host_resolves(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of("VirtualService"):
        ns = namespace(vs)
        if mesh_bound(vs):
            for i, host in enumerate(items(vs.spec.get("hosts"))):
                yield from _unresolved(scope, vs, pointer("spec", "hosts", i), str(host), ns)
        for at, dest in destinations(vs):
            yield from _unresolved(scope, vs, f"{at}/host", str(dest.get("host", "")), ns)


def _unresolved(scope: Scope, doc: Document, at: str, host: str, ns: str) -> Iterator[Outcome]:
    full = resolve(host, ns)
    if "*" not in full and not scope.resolves(full):
        shown = host if host == full else f"{host} ({full})"
        yield fail(doc, at, f"host {shown} is neither a Service nor a ServiceEntry host")


@check("virtualservice-host-unique")
def virtualservice_host_unique(scope: Scope) -> Iterator[Outcome]:
    first: dict[str, Document] = {}
    for vs in scope.of("VirtualService"):
        if not mesh_bound(vs):
            continue
        for i, host in enumerate(items(vs.spec.get("hosts"))):
            full = resolve(str(host), namespace(vs))
            other = first.setdefault(full, vs)
            if other is not vs:
                message = f"{full} already has VirtualService {namespace(other)}/{other.name}"
                yield fail(vs, pointer("spec", "hosts", i), message)


@check("sync-wave-order")
def sync_wave_order(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of("VirtualService"):
        ns = namespace(vs)
        seen: set[str] = set()
        for at, dest in destinations(vs):
            host = resolve(str(dest.get("host", "")), ns)
            rule = scope.destination_rule(host, ns)
            if rule is None or host in seen or wave(rule) < wave(vs):
                continue
            seen.add(host)
            message = (
                f"DestinationRule {namespace(rule)}/{rule.name} syncs in wave {wave(rule)}, "
                f"not before this VirtualService (wave {wave(vs)})"
            )
            yield fail(vs, at, message)
