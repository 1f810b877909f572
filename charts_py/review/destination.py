"""DestinationRules: circuit breaking and outlier detection, and the client side of mTLS."""

from __future__ import annotations

from typing import Any

from charts_py.review import security
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]
_GUARDS = ("outlierDetection", "connectionPool")
"""Istio's circuit breaking (connection pool limits) and outlier detection."""


def changes(before: Obj | None, after: Obj | None) -> list[Change]:
    """Outlier detection and connection pools (whole rule, then each subset), client TLS."""
    if before is None or after is None:
        return []
    out = security.client_tls(before, after)
    for at, old, new in _policies(before, after):
        was = {k: old.get(k) for k in _GUARDS if old.get(k) is not None}
        now = {k: new.get(k) for k in _GUARDS if new.get(k) is not None}
        if was == now:
            continue
        paths = tuple(f"{at}/{k}" for k in _GUARDS if old.get(k) != new.get(k))
        if any(k in was and k not in now for k in _GUARDS):
            risk, why = Risk.HIGH, "circuit breaking or outlier detection is removed"
        elif not was:
            risk, why = Risk.MEDIUM, "circuit breaking or outlier detection is added"
        else:
            risk, why = Risk.MEDIUM, "circuit breaking or outlier detection changes"
        out.append(Change("outlier", was or None, now or None, risk, why, paths))
    return out


def _policies(before: Obj, after: Obj) -> list[tuple[str, Obj, Obj]]:
    """(pointer, before's trafficPolicy, after's) for the rule and each subset by name."""

    def policy(obj: Obj) -> Obj:
        return dict(obj.get("trafficPolicy") or {})

    spec_b, spec_a = before.get("spec") or {}, after.get("spec") or {}
    out = [("/spec/trafficPolicy", policy(spec_b), policy(spec_a))]
    old = {s.get("name"): s for s in spec_b.get("subsets") or [] if isinstance(s, dict)}
    for i, subset in enumerate(spec_a.get("subsets") or []):
        if isinstance(subset, dict) and subset.get("name") in old:
            out.append(
                (f"/spec/subsets/{i}/trafficPolicy", policy(old[subset["name"]]), policy(subset))
            )
    return out
