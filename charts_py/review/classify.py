"""One object, two versions: the changes in mesh terms, and `other` for whatever is left.

Each Kubernetes or Istio kind has one classifier reading Istio's own fields. What the
classifiers do not claim (pointers outside the changes they return) becomes one `other`
change carrying those pointers, so a field nobody taught review about is shown, never dropped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

from charts_py.review import delta, destination, gamma, perimeter, routing, scaling, security
from charts_py.review.context import Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]
Classifier = Callable[[Obj | None, Obj | None, Context], list[Change]]

_BY_KIND: dict[str, Classifier] = {
    "VirtualService": routing.changes,
    "DestinationRule": lambda b, a, _: destination.changes(b, a),
    "PeerAuthentication": lambda b, a, _: security.peer_authentication(b, a),
    "AuthorizationPolicy": security.authorization_policy,
    "RequestAuthentication": lambda b, a, _: security.request_authentication(b, a),
    "Gateway": lambda b, a, _: perimeter.gateway(b, a),
    "ServiceEntry": perimeter.service_entry,
    "Sidecar": lambda b, a, _: perimeter.sidecar(b, a),
    "HorizontalPodAutoscaler": lambda b, a, _: scaling.autoscaler(b, a),
    "PodDisruptionBudget": lambda b, a, _: scaling.disruption_budget(b, a),
}

_GATEWAY_API: dict[str, Classifier] = {
    "HTTPRoute": gamma.changes,
    "GRPCRoute": gamma.changes,
    "Gateway": lambda b, a, _: perimeter.listeners(b, a),
}
"""Gateway API kinds (gateway.networking.k8s.io): its `Gateway` is not Istio's: an ingress
one's listeners are what it exposes; a waypoint's are `other` (or the waypoint added or
removed)."""
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
GATEWAY_API_ROUTES = ("HTTPRoute", "GRPCRoute")

SERVES_TRAFFIC = frozenset(
    {
        "Namespace",
        "Service",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "VirtualService",
        "DestinationRule",
        "Gateway",
        "ServiceEntry",
        "WorkloadEntry",
    }
)
"""Kinds whose removal stops traffic that flows today: removing one is critical."""

OBSERVABILITY = frozenset(
    {"ConfigMap", "PrometheusRule", "ServiceMonitor", "PodMonitor", "Telemetry"}
)
"""Kinds that neither carry nor guard traffic: an uninterpreted change to them is low."""

_REV = "istio.io~1rev"
_REVISION_LABELS = (f"/metadata/labels/{_REV}", f"/spec/template/metadata/labels/{_REV}")
_CONTROL_PLANE_CHART = "control-plane"
_MAX_SHOWN = 200


def judge(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """The changes from `before` to `after` (None: the object is added or removed)."""
    obj = after or before or {}
    kind = str(obj.get("kind", ""))
    table = (
        _GATEWAY_API if str(obj.get("apiVersion", "")).startswith(GATEWAY_API_GROUP) else _BY_KIND
    )
    found = list(table.get(kind, _nothing)(before, after, ctx))
    found += gamma.dataplane(before, after) or revision(before, after)
    if before is None or after is None:
        return found or [whole(before, after)]
    changed = delta.paths(before, after)
    claimed = tuple(p for c in found for p in c.paths)
    found = [_narrowed(c, changed) for c in found]
    left = [
        p
        for p in changed
        if not delta.under(p, claimed) and not _whole_block(before, after, p, claimed)
    ]
    if left:
        found.append(other(before, after, left))
    return found


def _whole_block(before: Obj, after: Obj, at: str, claimed: tuple[str, ...]) -> bool:
    """A block added or removed whole (a rule's `timeouts`) whose every field a change
    claims (its `request` the timeout, its `backendRequest` the retries)."""
    old, new = delta.value(before, at), delta.value(after, at)
    if not isinstance(old if old is not None else new, dict) or None not in (old, new):
        return False
    fields = delta.paths(old or {}, new or {}, at)
    return bool(fields) and all(delta.under(p, claimed) for p in fields)


def _narrowed(change: Change, changed: list[str]) -> Change:
    """The change with the pointers that differ under its claims (`/spec/mtls/mode`, not
    `/spec/mtls`), so its objects name them and its source is the field that moved."""
    actual = tuple(p for p in changed if delta.under(p, change.paths))
    return dataclasses.replace(change, paths=actual) if actual else change


def _nothing(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    return []


def revision(before: Obj | None, after: Obj | None) -> list[Change]:
    """The control-plane revision: an istio.io/rev label (namespace or pod template), or an
    Argo CD Application of the control-plane chart (istiod, gateways)."""
    obj = after or before or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if obj.get("kind") == "Application" and labels.get("meshops.dev/chart") == _CONTROL_PLANE_CHART:
        old, new = _release(before), _release(after)
        if old == new:
            return []
        why = "the control plane changes: " + str((new or old or {}).get("name"))
        paths = ("/spec/source/chart", "/spec/source/targetRevision") if before and after else ("",)
        return [Change("revision", old, new, Risk.HIGH, why, paths)]
    if before is None or after is None:
        return []
    out = []
    for at in _REVISION_LABELS:
        old, new = delta.value(before, at), delta.value(after, at)
        if old != new:
            why = f"workloads move to control-plane revision {new} when their pods restart"
            out.append(Change("revision", old, new, Risk.HIGH, why, (at,)))
    return out


def _release(app: Obj | None) -> dict[str, Any] | None:
    """Which release an Application installs (its values are `other`: a revision change is a
    release added, removed or moved to another chart version)."""
    if app is None:
        return None
    source = (app.get("spec") or {}).get("source") or {}
    return {
        "name": (app.get("metadata") or {}).get("name"),
        "chart": source.get("chart"),
        "targetRevision": source.get("targetRevision"),
    }


def whole(before: Obj | None, after: Obj | None) -> Change:
    """An object added or removed that no classifier gave a meaning to."""
    obj = after or before or {}
    kind = str(obj.get("kind"))
    name = f"{kind} {(obj.get('metadata') or {}).get('name')}"
    if before is None:
        return Change("object-added", None, name, Risk.MEDIUM, f"{name} is added", ("",))
    if kind in SERVES_TRAFFIC:
        return Change(
            "object-removed",
            name,
            None,
            Risk.CRITICAL,
            f"{name}, which serves traffic, is removed",
            ("",),
        )
    return Change("object-removed", name, None, Risk.MEDIUM, f"{name} is removed", ("",))


def rerouted(change: Change, name: str) -> Change:
    """A VirtualService's removal when a Gateway API route of its name takes its traffic (a
    namespace moved to ambient): no traffic stops, so not critical."""
    why = f"the routes of {name} move to a Gateway API route of the same name (ambient)"
    return dataclasses.replace(change, risk=min(change.risk, Risk.MEDIUM), why=why)


def other(before: Obj, after: Obj, paths: list[str]) -> Change:
    """What no classifier interpreted: the values at each pointer, before and after."""
    kind = str(after.get("kind"))
    risk = Risk.LOW if kind in OBSERVABILITY else Risk.MEDIUM
    why = "not interpreted by review: " + ", ".join(paths[:3]) + (" ..." if len(paths) > 3 else "")
    old = {p: _shown(delta.value(before, p)) for p in paths}
    new = {p: _shown(delta.value(after, p)) for p in paths}
    return Change("other", old, new, risk, why, tuple(paths))


def _shown(value: Any) -> Any:
    """Long values (a dashboard's JSON) by size and digest, so reports stay readable."""
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) <= _MAX_SHOWN:
        return value
    return f"<{len(text)} characters, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}>"
