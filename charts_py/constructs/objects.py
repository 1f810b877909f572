"""The one way a construct emits a Kubernetes object into a cdk8s tree.

Objects are emitted inside `batch()`, which defines all of them in the cdk8s tree with one
jsii call when it ends (see objectset: per-object calls were most of synth's time).
Each object is a `cdk8s.ApiObject` holding its whole manifest, under the construct that
emitted it, so cdk8s still applies chart labels and renders it (docs/development.md
"Performance").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from constructs import Construct

from charts_py.constructs import objectset
from charts_py.contract import SYNC_WAVE
from charts_py.kinds import Kind

Body = Mapping[str, Any]

_Pending = list[tuple[Construct, str, dict[str, Any]]]
_pending: ContextVar[_Pending | None] = ContextVar("pending_objects", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Collect what `emit` is called with inside, and add it all to the tree on the way out
    (nothing, if the block raised). Build an App inside one, and render it after."""
    pending: _Pending = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    objectset.define(pending)


def emit(
    scope: Construct,
    kind: Kind,
    name: str,
    body: Body | None = None,
    *,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    finalizers: Sequence[str] = (),
) -> None:
    """Add one object named `name` under `scope`; `body` holds its top-level fields (spec, ...).

    The construct id is `<Kind>-<name>`, unique per scope, so renaming a construct never
    changes an object's name or selector.
    """
    if kind.namespaced != (namespace is not None):
        raise ValueError(f"{kind.kind}/{name}: namespace must be set iff the kind is namespaced")
    pending = _pending.get()
    if pending is None:
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
    pending.append((scope, f"{kind.kind}-{name}", manifest))
