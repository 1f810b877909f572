"""`meshops apply`: server-side apply of dist/<env>/<cluster> the way Argo CD syncs it.

Same field manager (`argocd-controller`) and the same order (sync wave, then kind, then
name), so a cluster bootstrapped by meshops and one synced by Argo CD look the same to drift.
One LIST per kind first tells created from configured from unchanged without a GET per object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from charts_py import contract, kinds, kubeapi
from charts_py.objectref import ObjectRef

KIND_ORDER = {k.kind: i for i, k in enumerate(kinds.MESH_KINDS)}
IGNORED_FOR_CHANGE = ("managedFields", "resourceVersion", "generation")


@dataclass
class Summary:
    """Which objects an apply created, changed, or left as they were."""

    created: list[str] = field(default_factory=list)
    configured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.created) + len(self.configured) + len(self.unchanged)


def order(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Argo CD's sync order: wave, then kind (Namespaces first), then namespace and name."""

    def key(obj: dict[str, Any]) -> tuple[int, int, str, str]:
        meta = obj["metadata"]
        wave = int((meta.get("annotations") or {}).get(contract.SYNC_WAVE, "0"))
        rank = KIND_ORDER.get(obj["kind"], len(KIND_ORDER))
        return wave, rank, meta.get("namespace", ""), meta["name"]

    return sorted(objects, key=key)


def apply(
    cluster: kubeapi.Cluster,
    objects: Sequence[dict[str, Any]],
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> Summary:
    """Apply every object in sync order; raise on the first the server rejects."""
    ordered = order(objects)
    live = _live_index(cluster, ordered)
    summary = Summary()
    for obj in ordered:
        name = str(ObjectRef.of(obj))
        progress(name)
        before = live.get(_key(obj))
        after = cluster.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=dry_run)
        if before is None:
            summary.created.append(name)
        elif _same(before, after):
            summary.unchanged.append(name)
        else:
            summary.configured.append(name)
    return summary


def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    group = obj["apiVersion"].rpartition("/")[0]
    return group, obj["kind"], meta.get("namespace", ""), meta["name"]


def _live_index(
    cluster: kubeapi.Cluster, objects: Sequence[dict[str, Any]]
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """One LIST per kind of the objects to apply."""
    index = {}
    for api_version, kind in sorted({(o["apiVersion"], o["kind"]) for o in objects}):
        for item in cluster.list(cluster.resource(api_version, kind)):
            item["apiVersion"] = api_version
            index[_key(item)] = item
    return index


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Equal but for bookkeeping that an apply (or a dry-run) may touch."""
    return _without_bookkeeping(before) == _without_bookkeeping(after)


def _without_bookkeeping(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in IGNORED_FOR_CHANGE}
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "status")}
    return {**rest, "metadata": meta}
