"""HorizontalPodAutoscalers and PodDisruptionBudgets: capacity and how much may be down."""

from __future__ import annotations

from typing import Any

from charts_py.review.model import Change, Risk

Obj = dict[str, Any]
_HPA = ("minReplicas", "maxReplicas", "metrics", "behavior")
_PDB = ("minAvailable", "maxUnavailable", "unhealthyPodEvictionPolicy")


def autoscaler(before: Obj | None, after: Obj | None) -> list[Change]:
    """Replica bounds and scaling metrics; fewer replicas allowed is high."""
    if before is None or after is None:
        return []
    old, new = _view(before, _HPA), _view(after, _HPA)
    if old == new:
        return []
    paths = tuple(f"/spec/{k}" for k in _HPA if old.get(k) != new.get(k))
    shrunk = any(
        isinstance(old.get(k), int) and isinstance(new.get(k), int) and new[k] < old[k]
        for k in ("minReplicas", "maxReplicas")
    )
    if shrunk:
        return [Change("autoscaling", old, new, Risk.HIGH, "fewer replicas are allowed", paths)]
    return [Change("autoscaling", old, new, Risk.MEDIUM, "autoscaling changes", paths)]


def disruption_budget(before: Obj | None, after: Obj | None) -> list[Change]:
    """How many pods a voluntary disruption (drain, upgrade) may take at once."""
    if before is None or after is None:
        return []
    old, new = _view(before, _PDB), _view(after, _PDB)
    if old == new:
        return []
    paths = tuple(f"/spec/{k}" for k in _PDB if old.get(k) != new.get(k))
    return [Change("autoscaling", old, new, Risk.MEDIUM, "the disruption budget changes", paths)]


def _view(obj: Obj, keys: tuple[str, ...]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    return {k: spec[k] for k in keys if k in spec}
