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
from charts_py.review.context import Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]

FIELDS = {"/route": "/backendRefs", "/timeout": "/timeouts", "/retries": "/retry"}
"""Where an Istio route's field lives in a Gateway API rule."""


def changes(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """Every change of one HTTPRoute or GRPCRoute present on both sides (one added or removed
    is an added or removed object)."""
    if before is None or after is None:
        return []
    out: list[Change] = []
    old, new = _rules(before), _rules(after)
    for key in sorted(old.keys() & new.keys(), key=lambda k: new[k][0]):
        (i, one), (j, other) = old[key], new[key]
        found = routing.route_changes(one, other, f"/spec/rules/{j}", f"/spec/rules/{i}")
        out += [_renamed(change) for change in found]
    for key in sorted(old.keys() ^ new.keys()):
        i, rule = old[key] if key in old else new[key]
        whole = routing.route_whole(rule if key in old else None, rule if key in new else None,
                                    f"/spec/rules/{i}")  # fmt: skip
        out.append(whole)
    return out


def _renamed(change: Change) -> Change:
    """A change pointing at the rule's own fields instead of Istio's."""
    paths = []
    for path in change.paths:
        for istio, gateway_api in FIELDS.items():
            if istio in path:
                path = path.replace(istio, gateway_api, 1)
        paths.append(path)
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
