"""Istio structures of an environment file, placed into object bodies as written.

What a user writes in Istio's terms (a service's `http:` routes, a `trafficPolicy:`, an
authorization policy's `rules:`) is rendered field for field: only the fields the file sets
(no defaults added), under Istio's names, each leaf traced to its own path in the file, so
drift names the line and `propose --adopt` can write a live value back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from charts_py.config import istio_objects
from charts_py.config.view import View


def body(view: View, *, skip: frozenset[str] = frozenset()) -> Any:
    """The value at `view` as plain data with traced leaves; `skip` names top-level fields
    (by their YAML key) that are not part of the body (an entry's `name`)."""
    value = view.plain
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        out: dict[str, Any] = {}
        for name, info in fields.items():
            key = info.alias or name
            if name not in value.model_fields_set or key in skip:
                continue
            child = getattr(view, name)
            if child.plain is not None:
                out[key] = body(child)
        return out
    if isinstance(value, list):
        return [body(item) for item in view]
    if isinstance(value, dict):
        return {key: body(item) for key, item in view.entries()}
    return view.traced()


def spec_of(entry: View) -> dict[str, Any]:
    """The spec of a named entry (`name` plus Istio's spec fields): everything but `name`."""
    found: dict[str, Any] = body(entry, skip=frozenset({istio_objects.NAMED_FIELD}))
    return found


def attached(kind: str, spec: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """`spec` selecting the pods with `labels`, unless it selects or targets on its own (or
    its kind has no known selector: it is then namespace-wide, as written)."""
    where = istio_objects.SELECTORS.get(kind)
    if where is None or any(key in spec for key in istio_objects.TARGETS):
        return spec
    field, key = where
    return {**spec, field: {key: dict(labels)}}
