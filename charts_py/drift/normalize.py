"""Make live and desired comparable: drop bookkeeping, canonicalise what the server rewrites.

Each rule is a small function with the reason it exists. Inputs are never mutated.
"""

from __future__ import annotations

from typing import Any

from charts_py import quantity

# Written by the API server or controllers on every object; never part of desired state.
BOOKKEEPING_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
# Annotations tools add to track what they applied (REFERENCE.md: must not be drift).
# Helm's two name the release that installed an object (Helm 3.2+ checks them before it
# adopts one): an object adopted from Helm keeps them, owned by `helm`, and they say nothing
# about the object itself.
BOOKKEEPING_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "argocd.argoproj.io/tracking-id",
    "meta.helm.sh/release-name",
    "meta.helm.sh/release-namespace",
)

# Fields whose string values are resource.Quantity: the server stores them canonically
# (`1000m` -> `1`, `0.5` -> `500m`), so equal amounts must compare equal.
QUANTITY_PARENTS = {"requests", "limits", "capacity", "allocatable", "hard"}
QUANTITY_KEYS = {"averageValue", "value", "storage", "sizeLimit"}


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy without status, apiVersion and bookkeeping metadata (what it shares
    with `obj` is never mutated: `canonical` builds new containers)."""
    # apiVersion too: identity is matched by group, and git may lag the served version.
    out = {k: v for k, v in obj.items() if k not in ("status", "apiVersion")}
    meta = {k: v for k, v in (out.get("metadata") or {}).items() if k not in BOOKKEEPING_METADATA}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in BOOKKEEPING_ANNOTATIONS
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    if out.get("kind") == "Namespace":
        _namespace_finalizer(out)
    return out


def _namespace_finalizer(ns: dict[str, Any]) -> None:
    """The API server adds `spec.finalizers: [kubernetes]` to every Namespace."""
    if (ns.get("spec") or {}).get("finalizers") == ["kubernetes"]:
        spec = {k: v for k, v in ns["spec"].items() if k != "finalizers"}
        if spec:
            ns["spec"] = spec
        else:
            ns.pop("spec")


def canonical(value: Any, key: str = "", parent: str = "") -> Any:
    """Comparable form: empty maps/lists/None dropped (empty == null == absent), integral
    floats as ints (JSON round trips), quantities as numbers."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            c = canonical(v, k, key)
            if c is not None and c != {} and c != []:
                out[k] = c
        return out
    if isinstance(value, list):
        return [canonical(v, "", key) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (parent in QUANTITY_PARENTS or key in QUANTITY_KEYS):
        return quantity.comparable(value)
    return value


def empty(value: Any) -> bool:
    """What `canonical` drops: None, and maps and lists with nothing (canonical) in them."""
    if value is None:
        return True
    if isinstance(value, dict):
        return all(empty(v) for v in value.values())
    return isinstance(value, list) and not value
