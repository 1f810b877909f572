"""The one way a construct emits a Kubernetes object into a cdk8s tree.

Objects are emitted inside `batch()`, which defines all of them in the cdk8s tree with one
jsii call when it ends (see objectset: per-object calls were most of synth's time), and
collects their provenance: bodies may hold `provenance.Traced` values, which `emit` unwraps,
recording each one's JSON Pointer and origin.
Each object is a `cdk8s.ApiObject` holding its whole manifest, under the construct that
emitted it, so cdk8s still applies chart labels and renders it (docs/development.md
"Performance").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from charts_py import jsonpointer, provenance
from charts_py.constructs import objectset
from charts_py.contract import SYNC_WAVE
from charts_py.kinds import Kind
from charts_py.objectref import ObjectRef

Body = Mapping[str, Any]


@dataclass
class _Batch:
    pending: list[tuple[Construct, str, dict[str, Any]]] = field(default_factory=list)
    recorded: provenance.Provenance = field(default_factory=provenance.Provenance)


_batch: ContextVar[_Batch | None] = ContextVar("pending_objects", default=None)


@contextmanager
def batch() -> Iterator[provenance.Provenance]:
    """Collect what `emit` is called with inside, and add it all to the tree on the way out
    (nothing, if the block raised). Build an App inside one, and render it after; what it
    yields is the App's provenance, complete when the block ends."""
    current = _Batch()
    token = _batch.set(current)
    try:
        yield current.recorded
    finally:
        _batch.reset(token)
    objectset.define(current.pending)


def emit(
    scope: Construct,
    kind: Kind,
    name: str,
    body: Body | None = None,
    *,
    namespace: str | None = None,
    labels: Mapping[str, str | provenance.Traced] | None = None,
    annotations: Mapping[str, str | provenance.Traced] | None = None,
    finalizers: Sequence[str] = (),
) -> None:
    """Add one object named `name` under `scope`; `body` holds its top-level fields (spec, ...),
    where any value may be a `provenance.Traced` (recorded, then unwrapped).

    The construct id is `<Kind>-<namespace>-<name>` (`<Kind>-<name>` for a cluster-scoped
    kind), unique per scope, so renaming a construct never
    changes an object's name or selector.
    """
    if kind.namespaced != (namespace is not None):
        raise ValueError(f"{kind.kind}/{name}: namespace must be set iff the kind is namespaced")
    current = _batch.get()
    if current is None:
        raise RuntimeError(f"{kind.kind}/{name}: emit() outside objects.batch()")
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    metadata["annotations"] = {SYNC_WAVE: str(kind.wave), **(annotations or {})}
    if finalizers:
        metadata["finalizers"] = list(finalizers)
    manifest = {**body} if body else {}
    manifest |= {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": metadata}
    fields: dict[str, provenance.Origin] = {}
    plain = _unwrap(manifest, None, fields)
    key = provenance.ref_key(ObjectRef(kind.api_version, kind.kind, namespace or "", name))
    generated = provenance.Generated(f"{type(scope).__name__} construct")
    current.recorded.objects[key] = provenance.ObjectProvenance(generated, fields)
    where = f"{namespace}-" if namespace else ""
    current.pending.append((scope, f"{kind.kind}-{where}{name}", plain))


_At = tuple[Any, object] | None
"""Where a value sits, as (parent, token) links: a pointer is only spelled out when needed."""


_PLAIN = frozenset({str, int, float, bool, type(None)})
"""Leaf types returned as they are, without a call (most of a body: keeps the walk cheap)."""


def _unwrap(value: Any, at: _At, fields: dict[str, provenance.Origin]) -> Any:
    """A copy of `value` without `Traced` wrappers (inputs are never mutated: constructs share
    sub-dicts between objects), recording each wrapper's pointer and origin in `fields`."""
    kind = type(value)
    if kind is dict:
        return {
            k: v if type(v) in _PLAIN else _unwrap(v, (at, k), fields) for k, v in value.items()
        }
    if kind is list:
        return [
            v if type(v) in _PLAIN else _unwrap(v, (at, i), fields) for i, v in enumerate(value)
        ]
    if kind is provenance.Traced:
        fields[_pointer(at)] = value.origin
        return _unwrap(value.value, at, fields)
    return value


def _pointer(at: _At) -> str:
    tokens: list[object] = []
    while at is not None:
        at, token = at
        tokens.append(token)
    return jsonpointer.pointer(*reversed(tokens))
