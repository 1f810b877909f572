"""Routing: weights, subsets, hosts, one VirtualService per host, sync order, unreachable
rules, destination ports, and gateway routes that bypass the mesh routing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.scope import (
    Scope,
    destinations,
    http_routes,
    items,
    mesh_bound,
    namespace,
    resolve,
    wave,
)


@check("route-weights")
def route_weights(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
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
    for vs in scope.of(gk.VIRTUAL_SERVICE):
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
    for vs in scope.of(gk.VIRTUAL_SERVICE):
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
    for vs in scope.of(gk.VIRTUAL_SERVICE):
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
    """Only an inverted order is a finding: Argo CD applies one wave together, so objects
    without sync-wave annotations (wave 0 alike) are fine."""
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        ns = namespace(vs)
        seen: set[str] = set()
        for at, dest in destinations(vs):
            host = resolve(str(dest.get("host", "")), ns)
            rule = scope.destination_rule(host, ns)
            if rule is None or host in seen or wave(rule) <= wave(vs):
                continue
            seen.add(host)
            message = (
                f"DestinationRule {namespace(rule)}/{rule.name} syncs in wave {wave(rule)}, after "
                f"this VirtualService (wave {wave(vs)}): until it lands, new subsets fail (503 NR)"
            )
            yield fail(vs, at, message)


@check("route-unreachable")
def route_unreachable(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for protocol in ("http", "tls", "tcp"):
            rules = [r for r in items(vs.spec.get(protocol)) if isinstance(r, dict)]
            yield from _shadowed(vs, protocol, rules)


def _shadowed(vs: Document, protocol: str, rules: list[dict[str, Any]]) -> Iterator[Outcome]:
    """Istio's reading: the first rule without `match` takes everything after it; a match
    block an earlier rule already has is never used (a rule made only of those, never)."""
    catch_all: int | None = None
    taken: dict[str, int] = {}
    for i, rule in enumerate(rules):
        at = pointer("spec", protocol, i)
        matches = [json.dumps(m, sort_keys=True) for m in items(rule.get("match"))]
        if catch_all is not None:
            yield fail(vs, at, f"unreachable: rule {catch_all} before it has no match")
            continue
        if not matches:
            catch_all = i
            continue
        earlier = [taken[m] for m in matches if m in taken]
        if len(earlier) == len(matches):
            yield fail(vs, at, f"unreachable: rules {sorted(set(earlier))} take all its matches")
        else:
            for j, m in enumerate(matches):
                if m in taken:
                    message = f"match {j} is never used: rule {taken[m]} has the same match"
                    yield fail(vs, f"{at}/match/{j}", message)
        for m in matches:
            taken.setdefault(m, i)


@check("destination-port")
def destination_port(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        ns = namespace(vs)
        for at, dest in destinations(vs):
            if isinstance(dest.get("port"), dict):
                continue
            host = resolve(str(dest.get("host", "")), ns)
            ports = scope.ports_of(host)
            if len(ports) > 1:
                message = f"{host} has ports {ports}: which one the route means is undefined"
                yield fail(vs, at, message)


@check("gateway-route-subsets")
def gateway_route_subsets(scope: Scope) -> Iterator[Outcome]:
    meshed = [vs for vs in scope.of(gk.VIRTUAL_SERVICE) if mesh_bound(vs)]
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        if mesh_bound(vs):
            continue
        ns = namespace(vs)
        for at, route in http_routes(vs):
            for j, target in enumerate(items(route.get("route"))):
                dest = target.get("destination") if isinstance(target, dict) else None
                if not isinstance(dest, dict):
                    continue
                host = resolve(str(dest.get("host", "")), ns)
                where = f"{at}/route/{j}/destination"
                yield from _bypassed(vs, where, route, dest, host, meshed)


def _bypassed(
    vs: Document,
    at: str,
    route: dict[str, Any],
    dest: dict[str, Any],
    host: str,
    meshed: list[Document],
) -> Iterator[Outcome]:
    """A gateway only uses the VirtualServices bound to it: the mesh routing of `host`
    (subsets, retries) does not apply to its requests unless the route repeats it."""
    for mesh_vs in meshed:
        own = _routes_to(mesh_vs, host)
        if not own:
            continue
        name = f"VirtualService {namespace(mesh_vs)}/{mesh_vs.name}"
        subsets = sorted({str(d["subset"]) for _, d in own if d.get("subset")})
        if subsets and not dest.get("subset"):
            message = f"no subset: requests reach every version of {host}, not {name}'s {subsets}"
            yield fail(vs, f"{at}/subset", message)
        if any(r.get("retries") for r, _ in own) and not route.get("retries"):
            yield fail(vs, at.rsplit("/route/", 1)[0], f"no retries where {name} retries {host}")


def _routes_to(vs: Document, host: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(route, destination) of a mesh VirtualService's HTTP routes toward its own `host`."""
    ns = namespace(vs)
    if host not in {resolve(str(h), ns) for h in items(vs.spec.get("hosts"))}:
        return []
    out = []
    for _, route in http_routes(vs):
        for target in items(route.get("route")):
            dest = target.get("destination") if isinstance(target, dict) else None
            if isinstance(dest, dict) and resolve(str(dest.get("host", "")), ns) == host:
                out.append((route, dest))
    return out
