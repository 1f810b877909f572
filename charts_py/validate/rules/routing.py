"""Routing: weights, subsets, hosts, one VirtualService per host, sync order, unreachable
rules, destination ports, and gateway routes that bypass the mesh routing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.rules.gateways import host_matches
from charts_py.validate.scope import (
    Scope,
    destinations,
    http_routes,
    items,
    mapping,
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
            rules = scope.destination_rules(host, ns)
            if not rules:
                yield fail(vs, f"{at}/subset", f"no DestinationRule for {host} defines subsets")
                continue
            names = [
                s.get("name")
                for rule in rules
                for s in items(rule.spec.get("subsets"))
                if isinstance(s, dict)
            ]
            if subset not in names:
                where = ", ".join(f"DestinationRule {namespace(r)}/{r.name}" for r in rules)
                yield fail(vs, f"{at}/subset", f"subset {subset!r} is not in {where} ({names})")


@check("host-resolves")
def host_resolves(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        ns = namespace(vs)
        if mesh_bound(vs):
            for i, host in enumerate(items(vs.spec.get("hosts"))):
                yield from _unresolved(scope, vs, pointer("spec", "hosts", i), str(host), ns)
        exported = _exported_to(vs)
        readers = {ns} if "*" in exported else exported
        for at, dest in destinations(vs):
            host = str(dest.get("host", ""))
            for reader in sorted(readers):  # each namespace that uses these routes
                found = list(_unresolved(scope, vs, f"{at}/host", resolve(host, ns), reader))
                yield from found[:1]
                if found:
                    break


def _unresolved(scope: Scope, doc: Document, at: str, host: str, ns: str) -> Iterator[Outcome]:
    full = resolve(host, ns)
    if "*" in full:
        return
    shown = host if host == full else f"{host} ({full})"
    owners = _registered(scope, full)
    if not owners and not scope.resolves(full):
        message = f"host {shown} is neither a Service nor a ServiceEntry host"
        yield fail(doc, at, message, assuming=_elsewhere(scope, full))
    elif owners and not any(ns in _exported_to_namespaces(o) for o in owners):
        names = ", ".join(f"{o.kind} {namespace(o)}/{o.name}" for o in owners)
        yield fail(doc, at, f"host {shown} is not exported to {ns} ({names}: exportTo)")


def _elsewhere(scope: Scope, host: str) -> str:
    """The assumption behind an unresolved in-cluster host of a namespace whose Services the
    manifests do not hold (installed by another tool, as cert-manager's ACME solver is)."""
    if not host.endswith(".svc.cluster.local"):
        return ""
    ns = host.split(".")[1]
    if any(namespace(s) == ns for s in scope.of(gk.SERVICE)):
        return ""
    return f"the Services of namespace {ns} are all in these manifests (they hold none)"


def _registered(scope: Scope, host: str) -> list[Document]:
    """The Services and ServiceEntries in the manifests that define `host`."""
    found = [scope.service(host)] if scope.service(host) is not None else []
    for entry in scope.of(gk.SERVICE_ENTRY):
        if any(
            host_matches(str(h), host) and "*" not in host for h in items(entry.spec.get("hosts"))
        ):
            found.append(entry)
    return [d for d in found if d is not None]


class _Everywhere:
    """Every namespace (exportTo `*`)."""

    def __contains__(self, _: object) -> bool:
        return True


def _exported_to_namespaces(doc: Document) -> _Everywhere | set[str]:
    """Where an object is visible: a ServiceEntry's `exportTo`, a Service's
    `networking.istio.io/exportTo` annotation (`.`: its own namespace, `~`: none)."""
    if doc.group_kind == gk.SERVICE:
        listed = [e.strip() for e in doc.annotations.get(EXPORT_TO, "").split(",") if e.strip()]
    else:
        listed = [str(e) for e in items(doc.spec.get("exportTo"))]
    if not listed or "*" in listed:
        return _Everywhere()
    return {namespace(doc) if e == "." else e for e in listed if e != "~"}


EXPORT_TO = "networking.istio.io/exportTo"


@check("virtualservice-host-unique")
def virtualservice_host_unique(scope: Scope) -> Iterator[Outcome]:
    """Like IST0109, on every VirtualService of a clash: mesh-bound VirtualServices for one
    host, where their exportTo overlaps. Unlike IST0109, one with only `tls` routes and one
    with only `http` routes do not clash: sidecars serve them on different listeners (TLS
    passthrough on 443, plain HTTP on 80), as istio.io's egress TLS origination task does."""
    claims: dict[tuple[str, str], list[tuple[Document, int]]] = {}
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        if not mesh_bound(vs):
            continue
        for i, host in enumerate(items(vs.spec.get("hosts"))):
            full = resolve(str(host), namespace(vs))
            for where in _exported_to(vs):
                claims.setdefault((where, full), []).append((vs, i))
    reported: set[tuple[int, int]] = set()
    for (where, full), owners in claims.items():
        if where != "*":
            exported = [os for (w, h), os in claims.items() if w == "*" and host_matches(h, full)]
            owners = owners + [o for os in exported for o in os]
        for vs, i in owners:
            others = [o for o, _ in owners if o is not vs and not _separate(o, vs)]
            if not others or (id(vs), i) in reported:
                continue
            reported.add((id(vs), i))
            names = ", ".join(sorted({f"{namespace(o)}/{o.name}" for o in others}))
            yield fail(vs, pointer("spec", "hosts", i), f"{full} is also routed by {names}")


def _exported_to(vs: Document) -> set[str]:
    """Where a VirtualService is visible: `*` (everywhere), or the namespaces it names."""
    export = [str(e) for e in items(vs.spec.get("exportTo"))]
    if not export or "*" in export:
        return {"*"}
    return {namespace(vs) if e == "." else e for e in export}


def _separate(one: Document, other: Document) -> bool:
    """Only `tls` routes in one and only `http` routes in the other."""
    kinds = [{p for p in ("http", "tls", "tcp") if items(d.spec.get(p))} for d in (one, other)]
    return sorted(map(sorted, kinds)) == [["http"], ["tls"]]


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
    """Istio's reading (its validation's unreachable-rule analysis): the first rule without
    `match` takes everything after it; a match an earlier one already takes is never used,
    and a rule made only of those never is. Matches compare without their `name`; an
    earlier HTTP match also takes a later one it covers (a shorter URI prefix, no method
    or a method prefix, fewer headers; see _covers)."""
    catch_all: int | None = None
    taken: list[tuple[int, dict[str, Any]]] = []
    for i, rule in enumerate(rules):
        at = pointer("spec", protocol, i)
        matches = [_unnamed(m) for m in items(rule.get("match")) if isinstance(m, dict)]
        if catch_all is not None:
            yield fail(vs, at, f"unreachable: rule {catch_all} before it has no match")
            continue
        if not matches:
            catch_all = i
            continue
        earlier = [_taker(taken, m, protocol) for m in matches]
        if all(e is not None for e in earlier):
            firsts = sorted({e for e in earlier if e is not None})
            yield fail(vs, at, f"unreachable: rules {firsts} take all its matches")
        else:
            for j, by in enumerate(earlier):
                if by is not None:
                    message = f"match {j} is never used: rule {by} takes its requests first"
                    yield fail(vs, f"{at}/match/{j}", message)
                elif _taker(list(enumerate(matches[:j])), matches[j], protocol) is not None:
                    message = f"match {j} is never used: an earlier match of this rule takes it"
                    yield fail(vs, f"{at}/match/{j}", message)
        taken += [(i, m) for m in matches]


def _unnamed(match: dict[str, Any]) -> dict[str, Any]:
    """A match without its `name` (a label for stats, not a condition)."""
    return {k: v for k, v in match.items() if k != "name"}


def _taker(
    taken: list[tuple[int, dict[str, Any]]], match: dict[str, Any], protocol: str
) -> int | None:
    """The first earlier rule one of whose matches takes every request `match` takes."""
    for rule, earlier in taken:
        if earlier == match or (protocol == "http" and _covers(earlier, match)):
            return rule
    return None


_STRING_MATCHES = ("uri", "method", "authority", "scheme")
_MAP_MATCHES = ("headers", "queryParams")


def _covers(first: dict[str, Any], later: dict[str, Any]) -> bool:
    """Whether every request `later` matches, `first` matches too. Only the conditions below
    are compared; a condition of `first` not understood here covers nothing."""
    known = {*_STRING_MATCHES, *_MAP_MATCHES, "port", "withoutHeaders"}
    if set(first) - known or first.get("port") not in (None, later.get("port")):
        return False
    if not all(_string_covers(first.get(k), later.get(k)) for k in _STRING_MATCHES):
        return False
    for key in _MAP_MATCHES:
        theirs = mapping(later.get(key))
        if not all(
            _string_covers(v, theirs.get(k, False)) for k, v in mapping(first.get(key)).items()
        ):
            return False
    absent = mapping(first.get("withoutHeaders"))
    return all(mapping(later.get("withoutHeaders")).get(k) == v for k, v in absent.items())


def _string_covers(first: object, later: object) -> bool:
    """A StringMatch `first` (None: no condition) takes every value `later` takes."""
    if first is None:
        return True
    if not isinstance(first, dict) or not isinstance(later, dict) or first == later:
        return first == later
    prefix = first.get("prefix")
    value = later.get("exact", later.get("prefix"))
    return isinstance(prefix, str) and isinstance(value, str) and value.startswith(prefix)


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
