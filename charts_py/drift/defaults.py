"""What the API server adds to an object when git leaves a field out: its defaults.

Drift needs them to tell an adopted object from a drifted one: after `kubectl apply`,
`kubectl create` or Helm, the old manager still owns every field the server defaulted
(`spec.type`, `spec.strategy`, a probe's `scheme`...). Such a field is no drift when its live
value is the default. The nightly job cannot ask the server (read-only RBAC forbids even a
dry-run create), so the defaults come from a table *recorded from the real API server*:
`record` dry-run-creates every object meshops emits (and every recorded test case) and keeps
each field the server added with one and the same value wherever its parent exists (a
value that varies, such as an allocated `clusterIP` or a name-derived label, or a field the
server adds only sometimes, such as `rollingUpdate` only for that strategy, is no default).
`scripts/record_defaults.py` writes `server_defaults.json`; an integration test records it
again on the local control plane and fails when the two differ, so the table cannot rot
when the Kubernetes version changes.

Paths are tuples of keys; `*` stands for every item of a list.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from typing import Any

from charts_py import kubeapi
from charts_py.drift import normalize

ANY = "*"
COPY_OF = "$copyOf"
"""A row whose value is `{"$copyOf": key}`: the server sets the field to its sibling's value."""
Path = tuple[str, ...]
Table = dict[str, list[tuple[Path, Any]]]
TABLE_FILE = "server_defaults.json"


def kind_key(obj: dict[str, Any]) -> str:
    """`group/Kind` (`core/Service`): defaults do not change between versions of a group."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0] or "core"
    return f"{group}/{obj.get('kind')}"


@functools.cache
def table() -> Table:
    """The committed table (read once)."""
    text = resources.files("charts_py.drift").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return from_json(json.loads(text))[1]


def from_json(data: dict[str, Any]) -> tuple[str, Table]:
    """(Kubernetes version, table) from the file's JSON form."""
    kinds = {k: [(tuple(p), v) for p, v in rows] for k, rows in data["kinds"].items()}
    return str(data["kubernetes"]), kinds


def to_json(version: str, found: Table) -> str:
    """The file's JSON form: sorted, one row per default, stable bytes."""
    kinds = {k: [[list(p), v] for p, v in sorted(rows)] for k, rows in sorted(found.items())}
    return json.dumps({"kubernetes": version, "kinds": kinds}, indent=1, sort_keys=True) + "\n"


def fill(obj: dict[str, Any], defaults: Table | None = None) -> dict[str, Any]:
    """A copy of `obj` with every default set where git left it out (under parents git has)."""
    rows = (table() if defaults is None else defaults).get(kind_key(obj), [])
    out = copy.deepcopy(obj)
    for path, value in rows:
        _fill(out, path, value)
    if kind_key(out) == "core/Namespace":
        _name_label(out)
        _finalizer(out)
    return out


NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _name_label(namespace: dict[str, Any]) -> None:
    """The API server labels every Namespace with its own name (NamespaceDefaultLabelName,
    Kubernetes 1.21+), owned by whoever created it: a `kubectl create namespace` one, adopted,
    would otherwise be out-of-band drift for a label nobody can change. A default the table
    cannot hold: its value is the object's name."""
    meta = namespace.setdefault("metadata", {})
    labels = meta.get("labels") or {}
    meta["labels"] = {
        **labels,
        NAMESPACE_NAME_LABEL: labels.get(NAMESPACE_NAME_LABEL, meta["name"]),
    }


def _finalizer(namespace: dict[str, Any]) -> None:
    """The API server gives every Namespace `spec.finalizers: [kubernetes]`, which git never
    writes (no `spec`, so the table's rows cannot fill it): owned by whoever created the
    namespace, or by `before-first-apply` when it was created without managed fields, it is
    no one's edit while it holds the server's value."""
    spec = namespace.setdefault("spec", {})
    spec.setdefault("finalizers", ["kubernetes"])


def _fill(node: Any, path: Path, value: Any) -> None:
    step, rest = path[0], path[1:]
    if step == ANY:
        for item in node if isinstance(node, list) else []:
            _fill(item, rest, value)
    elif isinstance(node, dict):
        if not rest:
            if isinstance(value, dict) and COPY_OF in value:
                if value[COPY_OF] in node:
                    node.setdefault(step, copy.deepcopy(node[value[COPY_OF]]))
            else:
                node.setdefault(step, copy.deepcopy(value))
        elif step in node:
            _fill(node[step], rest, value)


# --- recording from a real API server -------------------------------------------------------

Predict = Callable[[dict[str, Any], int], dict[str, Any]]
"""A server-side dry-run create of an object under identity 0 or 1 (other names): the object
as the server would store it."""


ASSIGNED = frozenset(
    {("core/Service", ("spec", "clusterIP")), ("core/Service", ("spec", "clusterIPs"))}
)
"""Allocated, not defaulted: a dry-run answers with a placeholder address that no live
Service has (kube-apiserver allocates for real only on a persisted create)."""


def record(objects: Iterable[dict[str, Any]], predict: Predict) -> Table:
    """The defaults the server adds to `objects`, kept only where they are unconditional;
    every kind of `objects` has its row list, empty where the server defaults nothing.

    Each object is predicted under two identities (`predict(obj, 0)` and `(obj, 1)`), so
    what derives from a name or uid (a Job's selector labels) differs and is dropped; an
    added string that copies one of git's values (a Pod's deprecated `serviceAccount`) is
    dropped too: it is no default, it depends on the object.
    """
    pairs = []
    for obj in sorted(objects, key=lambda o: json.dumps(o, sort_keys=True)):
        desired, kind = _comparable(obj), kind_key(obj)
        copied = set(_strings(desired))
        for identity in (0, 1):
            pairs.append((desired, _comparable(predict(obj, identity)), kind, copied))
    candidates: dict[str, dict[Path, set[str]]] = {}
    for desired, predicted, kind, copied in pairs:
        for path, value in _added(desired, predicted, ()):
            sibling = _copied_sibling(desired, path, value)
            if sibling:
                value = {COPY_OF: sibling}
            elif (kind, path) in ASSIGNED or (isinstance(value, str) and value in copied):
                value = {"not a default": path}  # poisons the row: two values never agree
            candidates.setdefault(kind, {}).setdefault(path, set()).add(_text(value))
    found: Table = {kind: [] for _, _, kind, _ in pairs}  # a kind the server defaults nothing in
    for kind, paths in candidates.items():
        rows = [(p, json.loads(next(iter(v)))) for p, v in paths.items() if len(v) == 1]
        rows = [r for r in rows if not (isinstance(r[1], dict) and "not a default" in r[1])]
        same_kind = [(d, p) for d, p, k, _ in pairs if k == kind]
        found[kind] = sorted(row for row in rows if all(_holds(row, d, p) for d, p in same_kind))
    return found


def _copied_sibling(desired: Any, path: Path, value: Any) -> str | None:
    """The key next to `path` in git's object whose value the server copied (a Pod's
    `serviceAccount` from `serviceAccountName`), if any."""
    parent = _at(desired, tuple(path[:-1])) if ANY not in path else None
    if not isinstance(parent, dict) or not isinstance(value, str):
        return None
    return next((k for k, v in sorted(parent.items()) if v == value), None)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
    elif isinstance(value, str):
        yield value


def _comparable(obj: dict[str, Any]) -> Any:
    return normalize.canonical(normalize.strip(obj))


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _added(desired: Any, predicted: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    """The outermost paths the server added (list items by position: it never reorders)."""
    if isinstance(desired, dict) and isinstance(predicted, dict):
        for key, value in predicted.items():
            if key not in desired:
                yield (*path, key), value
            else:
                yield from _added(desired[key], value, (*path, key))
    elif _same_length_lists(desired, predicted):
        for d_item, p_item in zip(desired, predicted, strict=True):
            yield from _added(d_item, p_item, (*path, ANY))


def _same_length_lists(a: Any, b: Any) -> bool:
    return isinstance(a, list) and isinstance(b, list) and len(a) == len(b)


def _holds(row: tuple[Path, Any], desired: Any, predicted: Any) -> bool:
    """Wherever `desired` has the parent but not the field, the server set exactly `value`."""
    path, value = row
    for concrete in _absent_at(desired, path, ()):
        want = value
        if isinstance(value, dict) and COPY_OF in value:
            want = _at(desired, (*concrete[:-1], value[COPY_OF]))
        if _text(_at(predicted, concrete)) != _text(want):
            return False
    return True


def _absent_at(node: Any, path: Path, done: tuple[str | int, ...]) -> Iterator[tuple[Any, ...]]:
    step, rest = path[0], path[1:]
    if step == ANY:
        for i, item in enumerate(node if isinstance(node, list) else []):
            yield from _absent_at(item, rest, (*done, i))
    elif isinstance(node, dict):
        if not rest:
            if step not in node:
                yield (*done, step)
        elif step in node:
            yield from _absent_at(node[step], rest, (*done, step))


def _at(node: Any, concrete: tuple[Any, ...]) -> Any:
    for step in concrete:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            node = node.get(step) if isinstance(node, dict) else None
    return node


def server_predict(cluster: kubeapi.Cluster, namespace: str) -> Predict:
    """Dry-run creates on `cluster`: namespaced objects moved into `namespace` (which must
    exist), every object renamed per identity, so nothing collides with what it holds."""

    def predict(obj: dict[str, Any], identity: int) -> dict[str, Any]:
        moved = copy.deepcopy(obj)
        meta = moved["metadata"]
        if cluster.served(obj["apiVersion"], obj["kind"]).namespaced:
            meta["namespace"] = namespace
        meta["name"] = f"{meta['name']}-{namespace}-{identity}"
        return cluster.create_dry_run(moved)

    return predict
