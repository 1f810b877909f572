"""managedFields (fieldsV1) as paths, and the same paths for a desired object.

A path is a tuple of steps: a field name (`f:name` -> "name"), a list item by its merge key
(`k:{"name":"app"}` -> ("k", '{"name":"app"}')) or a set value (`v:"x"` -> ("v", '"x"')).
Who owns which path is what attributes a change to kubectl-edit or a dashboard.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, cast

from charts_py import jsonpointer

Step = str | tuple[str, str]
Path = tuple[Step, ...]

# Lists that Kubernetes merges by key (x-kubernetes-list-type: map) in the built-in kinds we
# emit; every other list (all Istio CRD lists included) is atomic: owned and replaced whole.
MAP_LISTS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "imagePullSecrets": ("name",),
}
BUILTIN_GROUPS = {"", "apps", "autoscaling", "policy", "batch", "rbac.authorization.k8s.io"}


@dataclass(frozen=True, kw_only=True)
class Owner:
    """One managedFields entry."""

    manager: str
    operation: str
    time: str | None
    subresource: str
    tree: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Its fieldsV1, as the server wrote it."""

    @functools.cached_property
    def paths(self) -> frozenset[Path]:
        """The leaf paths it owns (parsed when asked: most entries are a controller's, which
        judging never looks inside)."""
        out: list[Path] = []
        _leaves(self.tree, (), out)
        return frozenset(out)


def owners(obj: dict[str, Any]) -> list[Owner]:
    """Every manager of a live object."""
    return [
        Owner(
            manager=entry.get("manager", "?"),
            operation=entry.get("operation", "?"),
            time=entry.get("time"),
            subresource=entry.get("subresource", ""),
            tree=entry.get("fieldsV1") or {},
        )
        for entry in (obj.get("metadata") or {}).get("managedFields") or []
    ]


def _leaves(tree: dict[str, Any], prefix: Path, out: list[Path]) -> None:
    children = [k for k in tree if k != "."]
    if not children:
        out.append(prefix)
        return
    for key in children:
        kind, _, rest = key.partition(":")
        step: Step = rest if kind == "f" else (kind, rest)
        _leaves(tree[key] or {}, (*prefix, step), out)


def desired_paths(obj: dict[str, Any]) -> set[Path]:
    """The leaf paths an apply of `obj` would own (the same shape as fieldsV1 leaves)."""
    group = obj.get("apiVersion", "").rpartition("/")[0]
    out: set[Path] = set()
    _walk(obj, (), group in BUILTIN_GROUPS, out)
    return out


def _walk(value: Any, prefix: Path, builtin: bool, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _walk(child, (*prefix, key), builtin, out)
        return
    keys = list_keys(prefix) if builtin else None
    if isinstance(value, list) and keys:
        for item in value:
            _walk(item, (*prefix, ("k", _key_text(item, keys))), builtin, out)
        return
    out.add(prefix)


def _key_text(item: Any, keys: tuple[str, ...]) -> str:
    """A list item's merge key as fieldsV1 spells it (`k:{"name":"app"}`)."""
    return json.dumps({k: key_value(item, k) for k in keys}, separators=(",", ":"), sort_keys=True)


def covered(tree: dict[str, Any], obj: dict[str, Any]) -> bool:
    """True when git's `obj` covers every leaf a fieldsV1 `tree` owns: declares it, declares
    an atomic field holding it (a selector, a CRD's list) or declares fields inside it. Then
    the owner holds nothing beyond git, which `compare.ownership` would otherwise work out
    from both path sets; this is one walk of the tree beside the object, and the steady state
    of every object the syncer applied. False means "look closer" (a merge key git repeats,
    for one, is matched once)."""
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return _covered(tree, obj, (), group in BUILTIN_GROUPS)


def _covered(tree: dict[str, Any], value: Any, prefix: Path, builtin: bool) -> bool:
    keys = None
    if isinstance(value, list) and builtin:
        keys = list_keys(prefix)
    if keys is None and not (isinstance(value, dict) and value):
        return True  # a leaf of git's object: everything owned at or below it is declared
    if len(tree) <= ("." in tree):  # git declares fields inside what is owned whole
        return bool(value)
    index: dict[str, Any] | None = None
    for key, child in tree.items():
        kind, _, rest = key.partition(":")
        if kind == "f" and keys is None and rest in value:
            inside = value[rest]
        elif kind == "k" and keys is not None:
            if index is None:
                index = {_key_text(item, keys): item for item in value}
            if rest not in index:
                return False
            inside = index[rest]
        elif key == ".":
            continue
        else:  # a field git does not have, or a set or list item git cannot own
            return False
        if child or inside == []:  # an owned leaf beside a value: covered (unless empty)
            step: Step = rest if kind == "f" else (kind, rest)
            if not _covered(child or {}, inside, (*prefix, step), builtin):
                return False
    return True


def list_keys(prefix: Path) -> tuple[str, ...] | None:
    """Merge keys of a built-in list at `prefix`; None for atomic lists."""
    last = prefix[-1] if prefix else ""
    if last == "ports" and len(prefix) >= 2 and isinstance(prefix[-2], tuple):
        return ("containerPort", "protocol")  # a container's ports
    if last == "ports" and prefix == ("spec", "ports"):
        return ("port", "protocol")  # a Service's ports
    return MAP_LISTS.get(last) if isinstance(last, str) else None


def key_value(item: Any, key: str) -> Any:
    """Protocol defaults to TCP in merge keys, as the API server fills it."""
    value = item.get(key) if isinstance(item, dict) else None
    return "TCP" if key == "protocol" and value is None else value


def to_pointer(path: Path, obj: dict[str, Any]) -> str:
    """JSON Pointer of `path` inside `obj` (list items by their index in `obj`)."""
    out, node = "", cast(Any, obj)
    for step in path:
        if isinstance(step, tuple):
            index, node = _find(node, step)
            out += f"/{index}"
        else:
            out += jsonpointer.step(step)
            node = node.get(step) if isinstance(node, dict) else None
    return out


def _find(node: Any, step: tuple[str, str]) -> tuple[str, Any]:
    kind, raw = step
    if not isinstance(node, list):
        return "-", None
    wanted = json.loads(raw)
    for i, item in enumerate(node):
        if kind == "v" and item == wanted:
            return str(i), item
        if kind == "k" and all(key_value(item, k) == v for k, v in wanted.items()):
            return str(i), item
    return "-", None


def value_at(obj: Any, path: Path) -> Any:
    """The value at `path`, or None."""
    node = obj
    for step in path:
        if isinstance(step, tuple):
            node = _find(node, step)[1]
        else:
            node = node.get(step) if isinstance(node, dict) else None
        if node is None:
            return None
    return node
