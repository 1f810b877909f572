"""Live objects made fit to be applied again: bookkeeping and server-allocated fields removed.

A live object carries what the API server and controllers added after it was applied. Applied
back verbatim, some of it is rejected (a `resourceVersion` from another life of the object, a
Service `clusterIP` already taken) and some of it quietly takes over fields the syncer must
not own (an autoscaled `spec.replicas`). Each rule below says which and why.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from typing import Any

from charts_py.drift import fields

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

BOOKKEEPING = (
    "managedFields",  # rewritten by every write; the applier's field manager owns what it sends
    "resourceVersion",  # optimistic-concurrency token of the old object: an apply would conflict
    "uid",  # identity of the old object; a re-created object gets a new one
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",  # a backup taken while an object was being deleted must not replay it
    "deletionGracePeriodSeconds",
    # Owners are referenced by uid; restored owners get new uids, and the garbage collector
    # deletes objects whose owners are gone.
    "ownerReferences",
)
CONTROLLER_ANNOTATIONS = (
    LAST_APPLIED,  # kubectl's copy of a client-side apply; stale, and drift reads it as kubectl's
    "deployment.kubernetes.io/revision",  # written by the Deployment controller
)
JOB_LABELS = (  # generated from the Job's uid: the old values select no pods of the new Job
    "controller-uid",
    "batch.kubernetes.io/controller-uid",
    "job-name",
    "batch.kubernetes.io/job-name",
)
SCALED_KINDS = ("Deployment", "StatefulSet", "ReplicaSet")

Rule = Callable[[dict[str, Any]], None]


def for_reapply(obj: dict[str, Any], autoscaled: frozenset[tuple[str, str, str]]) -> dict[str, Any]:
    """A copy of live `obj` without status, bookkeeping, defaults and allocated fields."""
    out = set_fields(obj)
    out.pop("status", None)
    meta = out.setdefault("metadata", {})
    for key in BOOKKEEPING:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    for key in CONTROLLER_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in meta and not annotations:
        del meta["annotations"]
    for rule in RULES.get(out.get("kind", ""), ()):
        rule(out)
    if (out.get("kind"), meta.get("namespace", ""), meta.get("name")) in autoscaled:
        _drop_replicas(out)
    return out


def set_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` with only the fields some field manager set (managedFields).

    Server defaults (`dnsPolicy`, `terminationMessagePath`, probe timeouts...) are owned by
    nobody. Applied back, they would be owned by the syncer, which a sync never does: drift
    would then call every restored Deployment modified, and a later removal from git would not
    restore the default. An object without managedFields is kept whole (nothing to go by).
    """
    meta = obj.get("metadata") or {}
    tree: dict[str, Any] = {}
    for entry in meta.get("managedFields") or []:
        if entry.get("subresource") != "status":
            _union(tree, entry.get("fieldsV1") or {})
    if not tree:
        return copy.deepcopy(obj)
    out = _prune(obj, tree)
    out.update(apiVersion=obj["apiVersion"], kind=obj["kind"])
    identity = {k: meta[k] for k in ("name", "namespace") if k in meta}
    out["metadata"] = {**(out.get("metadata") or {}), **identity}
    return dict(out)


def _union(into: dict[str, Any], tree: dict[str, Any]) -> None:
    for key, child in tree.items():
        _union(into.setdefault(key, {}), child or {})


def _prune(value: Any, tree: dict[str, Any]) -> Any:
    """`value` limited to the fieldsV1 `tree`; a leaf (or an atomic list) is kept whole."""
    if not any(k != "." for k in tree):
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {
            key: _prune(child, tree[f"f:{key}"])
            for key, child in value.items()
            if f"f:{key}" in tree
        }
    if isinstance(value, list):
        kept = ((item, _item_tree(item, tree)) for item in value)
        return [_prune(item, sub) for item, sub in kept if sub is not None]
    return copy.deepcopy(value)


def _item_tree(item: Any, tree: dict[str, Any]) -> dict[str, Any] | None:
    """The subtree of the list item `item`: by merge key (`k:`) or value (`v:`), else None."""
    for key, sub in tree.items():
        kind, _, raw = key.partition(":")
        if kind == "v" and json.loads(raw) == item:
            return sub or {}
        if kind == "k" and all(fields.key_value(item, k) == v for k, v in json.loads(raw).items()):
            return sub or {}
        if kind == "i":  # positional ownership: keep the list as it is
            return {}
    return None


def autoscaled(objects: Iterable[dict[str, Any]]) -> frozenset[tuple[str, str, str]]:
    """(kind, namespace, name) of every workload an HPA among `objects` scales."""
    found = set()
    for obj in objects:
        if obj.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        namespace = (obj.get("metadata") or {}).get("namespace", "")
        found.add((str(target.get("kind")), namespace, str(target.get("name"))))
    return frozenset(found)


def _drop_replicas(obj: dict[str, Any]) -> None:
    """The HPA owns `spec.replicas` (dist/ omits it for that reason): applying the backed-up
    count as argocd-controller would make the next sync reset it to the default."""
    if obj.get("kind") in SCALED_KINDS:
        (obj.get("spec") or {}).pop("replicas", None)


def _service(obj: dict[str, Any]) -> None:
    """Allocated by the API server from the service CIDR and node-port range: immutable, and
    the old values may be taken or out of range in the cluster being restored."""
    spec = obj.get("spec") or {}
    for key in ("clusterIP", "clusterIPs", "healthCheckNodePort"):
        spec.pop(key, None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None)


def _job(obj: dict[str, Any]) -> None:
    """The Job controller generates the selector and pod labels from the Job's uid; re-applied,
    they are rejected (selector is immutable and must match the new uid)."""
    spec = obj.get("spec") or {}
    if not spec.get("manualSelector"):
        spec.pop("selector", None)
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    for key in JOB_LABELS:
        labels.pop(key, None)
    meta_labels = (obj.get("metadata") or {}).get("labels") or {}
    for key in JOB_LABELS:
        meta_labels.pop(key, None)


def _service_account(obj: dict[str, Any]) -> None:
    """Legacy token Secrets the token controller created and listed here: Secrets are never
    backed up, and a new cluster generates its own (or none, since Kubernetes 1.24)."""
    obj.pop("secrets", None)


RULES: dict[str, tuple[Rule, ...]] = {
    "Service": (_service,),
    "Job": (_job,),
    "ServiceAccount": (_service_account,),
}
