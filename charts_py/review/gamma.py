"""Gateway API routes (HTTPRoute, GRPCRoute): traffic shifts, timeouts and retries per rule,
judged as VirtualService routes are (routing.py), and an ambient namespace's data plane.

A rule is read in Istio's terms first (its backends' shares in percent, `timeouts.request` as
the route timeout, `retry` with `timeouts.backendRequest` as the per-try timeout: how istiod
converts them), so one risk table judges both APIs; the changes then name the rule's own
fields. Rules are matched by `name`, else by position.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from charts_py.review import delta, routing
from charts_py.review.context import BASE, HEAD, Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]

FIELDS = {
    "/route": ("/backendRefs",),
    "/timeout": ("/timeouts/request",),
    "/retries": ("/retry", "/timeouts/backendRequest"),
}
"""Where an Istio route's field lives in a Gateway API rule."""


def changes(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """Every change of one HTTPRoute or GRPCRoute: a mesh route's (GAMMA) present on both
    sides (one added or removed is an added or removed object); an ingress route's exposure
    (attached to a Gateway), and the timeouts of its rules present on both sides."""
    bound = _bound(before) or _bound(after)
    out = _exposure(before, after, ctx) if bound else []
    if before is None or after is None:
        return out
    old, new = _rules(before), _rules(after)
    for key in sorted(old.keys() & new.keys(), key=lambda k: new[k][0]):
        (i, one), (j, other) = old[key], new[key]
        found = routing.route_changes(one, other, f"/spec/rules/{j}", f"/spec/rules/{i}")
        out += [_renamed(change) for change in found]
    if bound:
        return out  # rules added or removed are exposure
    for key in sorted(old.keys() ^ new.keys()):
        i, rule = old[key] if key in old else new[key]
        whole = routing.route_whole(rule if key in old else None, rule if key in new else None,
                                    f"/spec/rules/{i}")  # fmt: skip
        out.append(whole)
    return out


# --- exposure (routes attached to a Gateway) ------------------------------------------------


def _bound(route: Obj | None) -> bool:
    """Attached to a Gateway (an ingress route), not to a Service (GAMMA, a mesh route)."""
    refs = ((route or {}).get("spec") or {}).get("parentRefs") or []
    return any((ref or {}).get("kind", "Gateway") == "Gateway" for ref in refs)


_ATTACHMENT = ("/spec/hostnames", "/spec/parentRefs")


def _exposure(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """Each rule that sends traffic to a backend, as exposed: the route's hostnames, the
    rule's paths, whether every path needs a JWT; judged as a VirtualService route's."""
    old, new = _exposed(before, ctx, BASE), _exposed(after, ctx, HEAD)
    out = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: (new.get(k) or old[k])[0]):
        was, now = old.get(key), new.get(key)
        view_before, view_after = (was[1] if was else None), (now[1] if now else None)
        if view_before == view_after:
            continue
        risk, why = routing.exposure_risk(view_before, view_after)
        index, _, service = now or was or (0, {}, None)
        at = f"/spec/rules/{index}"
        paths: tuple[str, ...] = (at,)
        source: tuple[str, str] | None = ((HEAD if now else BASE), f"{at}/matches")
        if was and now:
            paths, source = (f"{at}/matches", *_ATTACHMENT), _host_moved(before, after)
        # else: a rule (or the route) added or removed: its source is where its path is
        out.append(Change("exposure", view_before, view_after, risk, why, paths, service, source))
    return out


def _host_moved(before: Obj | None, after: Obj | None) -> tuple[str, str] | None:
    """Where the first hostname added (at the head) or taken away (at the base) is."""
    old, new = (list(((r or {}).get("spec") or {}).get("hostnames") or []) for r in (before, after))
    added = [i for i, host in enumerate(new) if host not in old]
    gone = [i for i, host in enumerate(old) if host not in new]
    if added:
        return HEAD, f"/spec/hostnames/{added[0]}"
    return (BASE, f"/spec/hostnames/{gone[0]}") if gone else None


def _exposed(route: Obj | None, ctx: Context, side: str) -> dict[str, tuple[int, Obj, str | None]]:
    """(index, exposure, backend Service) of each rule with backends, by name (`#<index>`)."""
    spec = (route or {}).get("spec") or {}
    hosts = sorted(str(h) for h in spec.get("hostnames") or [])
    jwt = ctx.jwt_paths(side) if route is not None else ()
    out: dict[str, tuple[int, Obj, str | None]] = {}
    for i, rule in enumerate(spec.get("rules") or []):
        refs = [r for r in (rule or {}).get("backendRefs") or [] if isinstance(r, dict)]
        if not refs:
            continue  # a redirect: it exposes no backend
        paths = sorted(_paths(rule))
        view: Obj = {
            "hosts": hosts,
            "paths": paths,
            "jwtRequired": bool(paths) and all(routing.covered(p, jwt) for p in paths),
        }
        out[str(rule.get("name") or f"#{i}")] = (i, view, str(refs[0].get("name")))
    return out


def _paths(rule: Obj) -> list[str]:
    """A rule's path matches as Istio path patterns (`/api/*` for a prefix), as routing.py
    reads a VirtualService's; Gateway API's default match is the prefix `/`."""
    out = []
    for match in rule.get("matches") or [{}]:
        path = (match or {}).get("path") or {}
        value = str(path.get("value", "/"))
        kind = path.get("type", "PathPrefix")
        if kind == "Exact":
            out.append(value)
        elif kind == "RegularExpression":
            out.append(f"~{value}")
        else:
            out.append(value.rstrip("/") + "/*")
    return out


def _renamed(change: Change) -> Change:
    """A change pointing at the rule's own fields instead of Istio's (a retry's per-try
    timeout is the rule's `timeouts.backendRequest`)."""
    paths: list[str] = []
    for path in change.paths:
        istio = next((f for f in FIELDS if path.endswith(f)), None)
        at = path.removesuffix(istio or "")
        paths += [at + field for field in FIELDS[istio]] if istio else [path]
    return dataclasses.replace(change, paths=tuple(paths))


def _rules(route: Obj) -> dict[str, tuple[int, Obj]]:
    """A route's rules in Istio's terms, by name (`#<index>` when unnamed)."""
    rules = (route.get("spec") or {}).get("rules") or []
    return {
        str(r.get("name") or f"#{i}"): (i, as_istio(r))
        for i, r in enumerate(rules)
        if isinstance(r, dict)
    }


def as_istio(rule: Obj) -> Obj:
    """One Gateway API rule as the Istio HTTPRoute istiod makes of it: destinations with their
    share in percent (Gateway API weights are proportional, default 1), timeout, retries."""
    refs = [r for r in rule.get("backendRefs") or [] if isinstance(r, dict)]
    weights = [int(r.get("weight", 1)) for r in refs]
    total = sum(weights)
    out: Obj = {
        "route": [
            {
                "destination": {"host": str(r.get("name")), "port": {"number": r.get("port")}},
                "weight": round(100 * w / total) if total else 0,
            }
            for r, w in zip(refs, weights, strict=True)
        ]
    }
    timeouts = rule.get("timeouts") or {}
    if "request" in timeouts:
        out["timeout"] = timeouts["request"]
    retry = rule.get("retry")
    if isinstance(retry, dict):
        out["retries"] = {**retry, "attempts": retry.get("attempts", 2)}
        if "backendRequest" in timeouts:
            out["retries"]["perTryTimeout"] = timeouts["backendRequest"]
    return out


DATAPLANE = "/metadata/labels/istio.io~1dataplane-mode"
REVISION = "/metadata/labels/istio.io~1rev"
"""A sidecar namespace's revision label, which an ambient one drops (constructs/baseline.py)."""


def dataplane(before: Obj | None, after: Obj | None) -> list[Change]:
    """A namespace moving between sidecars and ambient: its pods change data plane when they
    restart (a pod keeps the sidecar it started with; ztunnel serves pods without one)."""
    if before is None or after is None or before.get("kind") != "Namespace":
        return []
    old, new = delta.value(before, DATAPLANE), delta.value(after, DATAPLANE)
    if old == new:
        return []
    shown = {None: "sidecar", "ambient": "ambient"}
    why = (
        f"the namespace moves from {shown.get(old, old)} to {shown.get(new, new)}: its pods "
        "change data plane when they restart (docs/ambient.md)"
    )
    paths = (DATAPLANE, REVISION)
    return [Change("revision", old or "sidecar", new or "sidecar", Risk.HIGH, why, paths)]
