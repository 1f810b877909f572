"""Where live differs from desired, in three ways, each returning Differences:

1. `local`: desired must be a subset of live (server defaults may add, never change);
   cheap, no request, and exact when it finds nothing.
2. `predicted`: the server-side apply dry-run result vs live: what a sync would change
   (the authority whenever the local comparison found something).
3. `ownership`: fields live holds that git no longer declares but our manager still owns
   (a sync would delete them), and fields owned by managers that are neither ours nor
   known controllers (hand edits a sync would keep: Argo CD misses these).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from deepdiff import DeepDiff

from charts_py import jsonpointer
from charts_py.drift import fields, normalize
from charts_py.drift.model import Change, Difference
from charts_py.drift.normalize import BOOKKEEPING_ANNOTATIONS


def local(desired: Any, live: Any, builtin: bool) -> list[Difference]:
    """Paths where `desired` is not contained in `live`, both compared canonically.

    Both come stripped (`normalize.strip`) but not canonical: a subtree equal as it stands
    needs no look inside, and only where the two differ are their canonical forms built
    (most of an object is equal, and most of a large live object is never looked at)."""
    return list(_subset(desired, live, (), (), "", "", builtin))


def _subset(
    d: Any, lv: Any, at: tuple[Any, ...], path: fields.Path, key: str, parent: str, builtin: bool
) -> Iterator[Difference]:
    """`at`: the pointer's tokens so far; `path`: the field path (list items by key);
    `key`, `parent`: what `normalize.canonical` needs to know about this value."""
    if d == lv:
        return
    if isinstance(d, dict):
        if not isinstance(lv, dict):
            yield _changed(at, d, lv, key, parent)
            return
        for k, value in d.items():
            if type(value) not in _SCALARS and normalize.empty(value):
                continue
            there = lv.get(k)
            if type(there) not in _SCALARS and normalize.empty(there):
                canonical = normalize.canonical(value, k, key)
                yield Difference(
                    path=jsonpointer.pointer(*at, k),
                    change=Change.REMOVED,
                    desired=canonical,
                    live=None,
                )
            else:
                yield from _subset(value, there, (*at, k), (*path, k), k, key, builtin)
    elif isinstance(d, list):
        keys = fields.list_keys(path) if builtin else None
        if keys and isinstance(lv, list):
            yield from _subset_map_list(d, lv, at, path, keys, key, builtin)
        elif not isinstance(lv, list) or len(lv) != len(d):
            yield _changed(at, d, lv, key, parent)
        else:
            for i, (di, li) in enumerate(zip(d, lv, strict=True)):
                yield from _subset(di, li, (*at, i), (*path, str(i)), "", key, builtin)
    elif normalize.canonical(d, key, parent) != normalize.canonical(lv, key, parent):
        yield _changed(at, d, lv, key, parent)


_SCALARS = frozenset((str, int, bool, float))
"""Types never empty: most values, which need no call to tell."""


def _changed(at: tuple[Any, ...], d: Any, lv: Any, key: str, parent: str) -> Difference:
    return Difference(
        path=jsonpointer.pointer(*at) or "/",
        change=Change.CHANGED,
        desired=normalize.canonical(d, key, parent),
        live=normalize.canonical(lv, key, parent),
    )


def _subset_map_list(
    d: list[Any],
    lv: list[Any],
    at: tuple[Any, ...],
    path: fields.Path,
    keys: tuple[str, ...],
    key: str,
    builtin: bool,
) -> Iterator[Difference]:
    """Lists Kubernetes merges by key: match items by key, not position."""
    index = {tuple(fields.key_value(item, k) for k in keys): i for i, item in enumerate(lv)}
    for item in d:
        i = index.get(tuple(fields.key_value(item, k) for k in keys))
        if i is None:
            canonical = normalize.canonical(item, "", key)
            yield Difference(
                path=jsonpointer.pointer(*at, "-"),
                change=Change.REMOVED,
                desired=canonical,
                live=None,
            )
        else:
            step = ("k", "")  # merge-key step: its exact text does not matter below
            yield from _subset(item, lv[i], (*at, i), (*path, step), "", key, builtin)


def predicted(predicted_obj: Any, live: Any) -> list[Difference]:
    """Every difference between the dry-run result and live (both canonical)."""
    diff = DeepDiff(live, predicted_obj, view="tree", ignore_order=False)
    out = []
    for report_type, items in diff.items():
        change = _CHANGE_OF.get(report_type)
        if change is None:
            continue
        for level in items:
            ptr = jsonpointer.pointer(*level.path(output_format="list"))
            out.append(
                Difference(
                    path=ptr or "/",
                    change=change,
                    desired=_present(level.t2),
                    live=_present(level.t1),
                )
            )
    return sorted(out, key=lambda d: d.path)


_CHANGE_OF = {
    "values_changed": Change.CHANGED,
    "type_changes": Change.CHANGED,
    "dictionary_item_added": Change.REMOVED,  # in the prediction, not in live
    "iterable_item_added": Change.REMOVED,
    "dictionary_item_removed": Change.ADDED,  # in live, a sync would remove it
    "iterable_item_removed": Change.ADDED,
}


def _present(value: Any) -> Any:
    """deepdiff marks the missing side of an added/removed item with a NotPresent object."""
    return None if type(value).__name__ == "NotPresent" else value


def ownership(
    live: dict[str, Any],
    owners: list[fields.Owner],
    desired: dict[str, Any],
    defaulted: Callable[[], dict[str, Any]],
    ours: str,
    allowed: frozenset[str],
) -> list[tuple[Difference, fields.Owner]]:
    """Fields live holds beyond what git declares, with the manager that owns each; a field
    whose live value is the server's default for git's object (`defaulted()`, computed only
    when some manager owns fields beyond git) is no drift,
    whoever owns it (an object adopted from kubectl or Helm), nor is a list item's key field
    (its value is the key git's item was matched by)."""
    leaves: set[fields.Path] | None = None  # built only when some owner looks beyond git
    inner: set[fields.Path] | None = None  # built only when some owned field is not a leaf
    out = []
    for owner in owners:
        if owner.manager in allowed or (owner.manager == ours and owner.operation != "Apply"):
            continue
        if fields.covered(owner.tree, desired):  # the common case, an in-sync object
            continue
        if leaves is None:
            leaves = fields.desired_paths(desired)
        beyond = owner.paths - leaves
        if not beyond:
            continue
        if inner is None:
            inner = {path[:n] for path in leaves for n in range(1, len(path))}
        # Cheap tests first: an atomic field git declares inside (a selector) is judged by
        # the value comparison, and needs no copy of git's object with defaults filled in.
        beyond = frozenset(
            p
            for p in beyond
            if not _covered(p, leaves, inner)
            and not _bookkeeping(p, owner.manager == ours)
            and not _key_field(p)
            and not _is_default(p, defaulted(), live)
        )
        anchors = {_anchor(p, inner) for p in beyond}
        for path in sorted(anchors, key=str):
            ptr = fields.to_pointer(path, live)
            out.append(
                (
                    Difference(
                        path=ptr,
                        change=Change.ADDED,
                        desired=None,
                        live=fields.value_at(live, path),
                    ),
                    owner,
                )
            )
    return out


def _key_field(path: fields.Path) -> bool:
    """`ports[k:{port:80,protocol:TCP}].protocol`: part of the key the item matched by."""
    if len(path) < 2 or not isinstance(path[-2], tuple) or path[-2][0] != "k":
        return False
    return isinstance(path[-1], str) and path[-1] in json.loads(path[-2][1])


def _is_default(path: fields.Path, defaulted: dict[str, Any], live: dict[str, Any]) -> bool:
    want = fields.value_at(defaulted, path)
    if want is None:
        return False
    return bool(normalize.canonical(want) == normalize.canonical(fields.value_at(live, path)))


def taken(
    desired: Any, live: Any, owners: list[fields.Owner], ours: str, allowed: frozenset[str]
) -> list[Difference]:
    """Desired atomic fields (e.g. an Istio route list) a foreign manager took over and left
    different from git, compared exactly (both canonical).

    `local` lets live add keys inside list items (server defaults); but an Update that changes
    an atomic field takes its ownership, and a sync replaces it whole, so an added `fault` in
    a route is drift that the subset comparison would hide.
    """
    leaves = fields.desired_paths(desired)
    out = []
    for owner in owners:
        if owner.manager in allowed or owner.manager == ours:
            continue
        for path in sorted(owner.paths & leaves, key=str):
            want, have = fields.value_at(desired, path), fields.value_at(live, path)
            if isinstance(want, list) and want != have:
                ptr = fields.to_pointer(path, live)
                out.append(Difference(path=ptr, change=Change.CHANGED, desired=want, live=have))
    return out


def _anchor(path: fields.Path, inner: set[fields.Path]) -> fields.Path:
    """The outermost part of `path` that desired does not have: an added env var is
    reported as the whole `env` list (or list item), not as its `name` and `value` leaves."""
    for n in range(1, len(path) + 1):
        if path[:n] not in inner:
            return path[:n]
    return path


ARGOCD_TRACKING_LABEL = ("metadata", "labels", "app.kubernetes.io/instance")
"""Argo CD's label tracking method adds this label to what it applies (argo-cd docs,
"Resource Tracking"): ours when the syncer owns it, a hand edit otherwise."""


def _bookkeeping(path: fields.Path, by_syncer: bool) -> bool:
    if not path or path[0] == "status":
        return True
    if by_syncer and path == ARGOCD_TRACKING_LABEL:
        return True
    return (
        path[:2] == ("metadata", "annotations")
        and len(path) > 2
        and (path[2] in BOOKKEEPING_ANNOTATIONS)
    )


def _covered(path: fields.Path, leaves: set[fields.Path], inner: set[fields.Path]) -> bool:
    """Desired declares this path, a descendant of it (`inner`: every proper prefix of a
    desired leaf) or an atomic ancestor (a leaf): the value comparison already judges it."""
    return path in inner or any(path[:n] in leaves for n in range(1, len(path) + 1))
