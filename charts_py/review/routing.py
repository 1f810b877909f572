"""VirtualServices: traffic shifts, timeouts, retries and faults per HTTP route; for routes
bound to a gateway, what is exposed; for routes through an egress gateway, egress.

Routes are matched by their `name` (Istio's), else by position; every judgement reads
Istio's own fields, so routes meshops did not write are judged the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py import duration
from charts_py.review import delta
from charts_py.review.context import BASE, HEAD, Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]
_MESH = "mesh"


def changes(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """Every change of one VirtualService (added or removed: only what is exposed or egress;
    the rest is an added or removed object)."""
    if _egress_hosts(before) or _egress_hosts(after):
        return _egress(before, after)
    if before is None or after is None:
        return _exposure_whole(before, after, ctx) if _bound(before or after or {}) else []
    out: list[Change] = []
    old, new = _routes(before), _routes(after)
    for key in sorted(old.keys() & new.keys(), key=lambda k: new[k][0]):
        (i, one), (j, other) = old[key], new[key]
        out += route_changes(one, other, f"/spec/http/{j}", f"/spec/http/{i}")
        if _bound(after) or _bound(before):
            out += _exposure_route(before, after, one, other, f"/spec/http/{j}", ctx)
    for key in sorted(old.keys() ^ new.keys()):
        i, route = old[key] if key in old else new[key]
        at = f"/spec/http/{i}"
        if _bound(after) or _bound(before):
            gone = key in old
            out.append(
                _exposure_one(before if gone else None, None if gone else after, route, at, ctx)
            )
        else:
            out.append(
                route_whole(route if key in old else None, route if key in new else None, at)
            )
    if _bound(after) or _bound(before):
        out += _exposure_hosts(before, after, ctx)
    return out


# --- routes --------------------------------------------------------------------------------


def _routes(vs: Obj) -> dict[str, tuple[int, Obj]]:
    """HTTP routes by name (`#<index>` when unnamed), with their index."""
    http = (vs.get("spec") or {}).get("http") or []
    return {
        str(r.get("name") or f"#{i}"): (i, r) for i, r in enumerate(http) if isinstance(r, dict)
    }


def route_changes(before: Obj, after: Obj, at: str, was: str) -> Iterator[Change]:
    """The shift, timeout, retries and fault of one route present at both sides."""
    if _weights(before) != _weights(after):
        yield _shift(_weights(before), _weights(after), (f"{at}/route", f"{was}/route"))
    if before.get("timeout") != after.get("timeout"):
        yield _timeout(before, after, (f"{at}/timeout",))
    if before.get("retries") != after.get("retries"):
        yield _retries(before, after, (f"{at}/retries",))
    if before.get("fault") != after.get("fault"):
        yield _fault(before, after, (f"{at}/fault",))


def route_whole(before: Obj | None, after: Obj | None, at: str) -> Change:
    """A mesh route added or removed: the traffic it carried goes elsewhere, or comes to it;
    a route that exists to inject faults is a fault added or removed."""
    route = after or before or {}
    if "fault" in route:
        return _fault(before or {}, after or {}, (at,))
    old = _weights(before) if before else None
    new = _weights(after) if after else None
    if after is None:
        return Change(
            "traffic-shift",
            old,
            None,
            Risk.CRITICAL,
            "a route that serves traffic is removed",
            (at,),
        )
    return Change("traffic-shift", None, new, Risk.MEDIUM, "a route is added", (at,))


def _weights(route: Obj) -> dict[str, int]:
    """Share of the route's traffic per destination: subset name (else host), Istio's
    implicit 100 for a single destination without weight."""
    dests = [d for d in route.get("route") or [] if isinstance(d, dict)]
    out: dict[str, int] = {}
    for d in dests:
        dest = d.get("destination") or {}
        label = str(dest.get("subset") or _short(str(dest.get("host", ""))))
        port = (dest.get("port") or {}).get("number")
        if label in out and port is not None:
            label = f"{label}:{port}"
        out[label] = out.get(label, 0) + int(d.get("weight", 100 if len(dests) == 1 else 0))
    return out


def _shift(old: dict[str, int], new: dict[str, int], paths: tuple[str, ...]) -> Change:
    moved = max(abs(new.get(k, 0) - old.get(k, 0)) for k in old.keys() | new.keys())
    if moved > 50:
        return Change(
            "traffic-shift",
            old,
            new,
            Risk.HIGH,
            f"{moved} % of the traffic moves (more than half)",
            paths,
        )
    return Change("traffic-shift", old, new, Risk.MEDIUM, f"{moved} % of the traffic moves", paths)


def _timeout(before: Obj, after: Obj, paths: tuple[str, ...]) -> Change:
    old, new = before.get("timeout"), after.get("timeout")
    was, now = duration.seconds(old), duration.seconds(new)
    budget = _budget(after)
    if now is None:
        risk, why = Risk.HIGH, "the route timeout is removed: a slow upstream holds callers"
    elif budget is not None and now + 1e-9 < budget:
        risk, why = (
            Risk.HIGH,
            f"the timeout {new} is shorter than the retry budget {duration.shown(budget)}",
        )
    elif was is not None and now < was:
        risk, why = Risk.HIGH, "the timeout is shortened: callers see more timeouts"
    else:
        risk, why = Risk.MEDIUM, "the timeout is lengthened or set"
    return Change("timeout", old, new, risk, why, paths)


def _budget(route: Obj) -> float | None:
    """The retry budget: (attempts + 1) tries of perTryTimeout (None without retries)."""
    retries = route.get("retries") or {}
    per_try = duration.seconds(retries.get("perTryTimeout"))
    attempts = retries.get("attempts")
    if per_try is None or not isinstance(attempts, int):
        return None
    return per_try * (attempts + 1)


def _retry_view(route: Obj) -> dict[str, Any] | None:
    retries = route.get("retries")
    if not isinstance(retries, dict):
        return None
    budget = _budget(route)
    return {
        **retries,
        "budget": duration.shown(budget) if budget is not None else None,
        "timeout": route.get("timeout"),
    }


def _retries(before: Obj, after: Obj, paths: tuple[str, ...]) -> Change:
    old, new = _retry_view(before), _retry_view(after)
    budget, timeout = _budget(after), duration.seconds(after.get("timeout"))
    if budget is not None and timeout is not None and timeout + 1e-9 < budget:
        risk = Risk.HIGH
        why = (
            f"the retry budget {duration.shown(budget)} exceeds the timeout "
            f"{after.get('timeout')}: the last tries never run"
        )
    elif new is None:
        risk, why = Risk.MEDIUM, "retries are removed: one failure reaches the caller"
    else:
        risk, why = Risk.MEDIUM, "retries change within the timeout"
    return Change("retries", old, new, risk, why, paths)


def _fault(before: Obj, after: Obj, paths: tuple[str, ...]) -> Change:
    old, new = before.get("fault"), after.get("fault")
    gated = any("headers" in m for m in after.get("match") or [] if isinstance(m, dict))
    if new is None:
        return Change("fault", old, new, Risk.LOW, "fault injection is removed", paths)
    if gated:
        return Change(
            "fault", old, new, Risk.MEDIUM, "fault injection, gated by a header match", paths
        )
    return Change(
        "fault", old, new, Risk.HIGH, "fault injection reaches every request of the route", paths
    )


# --- exposure (gateway-bound routes) -------------------------------------------------------


def _bound(vs: Obj) -> bool:
    """Bound to a gateway other than the mesh: its routes are reachable from outside."""
    gateways = (vs.get("spec") or {}).get("gateways") or []
    return any(g != _MESH for g in gateways)


def _exposed(vs: Obj, route: Obj, ctx: Context, side: str) -> dict[str, Any]:
    paths = sorted(_paths(route))
    jwt = ctx.jwt_paths(side)
    return {
        "hosts": sorted((vs.get("spec") or {}).get("hosts") or []),
        "paths": paths,
        "jwtRequired": bool(paths) and all(covered(p, jwt) for p in paths),
    }


def _paths(route: Obj) -> list[str]:
    """The URI matches of a route as Istio path patterns (`/api/*` for a prefix); `/*` when
    the route matches everything."""
    out = []
    for match in route.get("match") or [{}]:
        uri = (match or {}).get("uri") or {}
        if "exact" in uri:
            out.append(str(uri["exact"]))
        elif "prefix" in uri:
            out.append(str(uri["prefix"]).rstrip("/") + "/*")
        elif "regex" in uri:
            out.append(f"~{uri['regex']}")
        else:
            out.append("/*")
    return out


def covered(path: str, jwt: tuple[str, ...]) -> bool:
    """Whether every request to `path` (a pattern) hits a JWT-required pattern."""
    for pattern in jwt:
        if pattern == "*" or pattern == path:
            return True
        if pattern.endswith("*") and path.startswith(pattern[:-1]):
            return True
    return False


def exposure_risk(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[Risk, str]:
    if new is None:
        return Risk.CRITICAL, "an exposed route that serves traffic is removed"
    widened = (
        old is None
        or set(new["hosts"]) - set(old["hosts"])
        or set(new["paths"]) - set(old["paths"])
    )
    if widened and not new["jwtRequired"]:
        return Risk.CRITICAL, "a public host or path is exposed without requiring a JWT"
    if old is not None and old["jwtRequired"] and not new["jwtRequired"]:
        return Risk.CRITICAL, "a path no longer requires a JWT"
    if widened:
        return Risk.HIGH, "a host or path is exposed (JWT required)"
    assert old is not None  # widened is true without a before
    if set(old["hosts"]) - set(new["hosts"]) or set(old["paths"]) - set(new["paths"]):
        return Risk.CRITICAL, "an exposed host or path that serves traffic is removed"
    return Risk.MEDIUM, "the exposure changes"


def _exposure_one(
    before: Obj | None, after: Obj | None, route: Obj, at: str, ctx: Context
) -> Change:
    old = _exposed(before, route, ctx, BASE) if before else None
    new = _exposed(after, route, ctx, HEAD) if after else None
    risk, why = exposure_risk(old, new)
    return Change("exposure", old, new, risk, why, (at,), _route_service(route))


def _exposure_route(
    before: Obj, after: Obj, one: Obj, other: Obj, at: str, ctx: Context
) -> list[Change]:
    old, new = _exposed(before, one, ctx, BASE), _exposed(after, other, ctx, HEAD)
    if old == new:
        return []
    risk, why = exposure_risk(old, new)
    return [Change("exposure", old, new, risk, why, (f"{at}/match",), _route_service(other))]


def _exposure_whole(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    vs = before or after or {}
    return [
        _exposure_one(before, after, route, f"/spec/http/{i}", ctx)
        for i, route in _routes(vs).values()
    ]


def _exposure_hosts(before: Obj, after: Obj, ctx: Context) -> list[Change]:
    """The VirtualService's hosts or gateways changed: each route's exposure with them."""
    keys = ("/spec/hosts", "/spec/gateways")
    moved = [p for p in delta.paths(before, after) if delta.under(p, keys)]
    if not moved:
        return []
    out = []
    new = _routes(after)
    for key, (_, route) in _routes(before).items():
        if key not in new:
            continue
        old_view, new_view = (
            _exposed(before, route, ctx, BASE),
            _exposed(after, new[key][1], ctx, HEAD),
        )
        risk, why = exposure_risk(old_view, new_view)
        out.append(
            Change(
                "exposure", old_view, new_view, risk, why, tuple(moved), _route_service(new[key][1])
            )
        )
    return out or [
        Change("exposure", None, None, Risk.MEDIUM, "the gateway binding changes", tuple(moved))
    ]


def _route_service(route: Obj) -> str | None:
    """The service a route sends its traffic to (the first destination's)."""
    for d in route.get("route") or []:
        host = ((d or {}).get("destination") or {}).get("host")
        if host:
            return _short(str(host))
    return None


def _short(host: str) -> str:
    """`reviews.shop.svc.cluster.local` -> `reviews`; other hosts as written."""
    return host.split(".", 1)[0] if host.endswith(".svc.cluster.local") else host


# --- egress (routes through an egress gateway) ---------------------------------------------


def _egress_hosts(vs: Obj | None) -> list[str]:
    """The external hosts a VirtualService sends through an egress gateway."""
    if vs is None:
        return []
    spec = vs.get("spec") or {}
    dests = [
        ((d or {}).get("destination") or {}).get("host", "")
        for kind in ("http", "tls", "tcp")
        for r in spec.get(kind) or []
        for d in (r or {}).get("route") or []
    ]
    if not any("egressgateway" in str(h) for h in dests):
        return []
    return sorted(str(h) for h in spec.get("hosts") or [])


def _egress(before: Obj | None, after: Obj | None) -> list[Change]:
    old, new = _egress_hosts(before), _egress_hosts(after)
    out = []
    for host in sorted(set(old) | set(new)):
        was, now = host in old, host in new
        if was == now:
            continue
        before_view = {"host": host, "egressGateway": was}
        after_view = {"host": host, "egressGateway": now}
        if was:
            risk, why = Risk.CRITICAL, "an external host leaves the egress gateway"
        else:
            risk, why = Risk.MEDIUM, "an external host goes through the egress gateway"
        out.append(Change("egress", before_view, after_view, risk, why, ("/spec",), host))
    if out or before is None or after is None:
        return out
    paths = tuple(delta.paths(before, after))
    return (
        [
            Change(
                "egress",
                {"hosts": old},
                {"hosts": new},
                Risk.MEDIUM,
                "the egress route changes",
                paths,
            )
        ]
        if paths
        else []
    )
