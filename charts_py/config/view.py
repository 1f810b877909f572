"""A traced view of an environment: every value it hands out knows the path its access took.

Constructs read the environment through `Environment.traced(obj)` instead of the models
themselves: `env.traced(service).retries.per_try_timeout` is a `View` of the effective value
(the service's own block, else the policy's, per `model.FALLBACKS`), whose `path` is the
model path that access took, in the environment file's spelling (pydantic's aliases, list
indexes and map keys included): `("services", 6, "retries", "perTryTimeout")` or, when the
service leaves `retries` out, `("policy", "retries", "perTryTimeout")` with the service's
field as the narrowest `override`. `View.traced()` wraps the value with its origin for
`objects.emit()`. So no construct spells a path by hand, and no second copy of the fallback
order exists: the origin of a path is only "written in the file, else a default"
(config/origin.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from pydantic import BaseModel

from charts_py import provenance
from charts_py.config import source

Resolve = Callable[[source.FieldPath, source.FieldPath], provenance.Origin]
"""The origin of (path, override): `Environment._origin`, cached per pair."""

Fallback = Callable[[BaseModel, str, source.FieldPath], "View | None"]
"""The view a model's field falls back to when the model leaves it out (or None)."""


class View:
    """One value of an environment with the model path its access took.

    Attribute access follows a model's fields (by Python name, recorded by alias), `view[i]`
    a list's items and `view[key]` a map's; iteration yields item views, `.entries()` a map's.
    Leaves end in `.traced()` (the value, with its origin) or `.plain` (the value, untraced);
    `.where` is the model path. These names are the view's own: no model field may take one
    (tests/unit/test_provenance_paths.py checks every model).
    """

    __slots__ = ("_fallback", "_resolve", "override", "plain", "where")

    def __init__(
        self,
        value: Any,
        path: source.FieldPath,
        override: source.FieldPath,
        resolve: Resolve,
        fallback: Fallback,
    ) -> None:
        self.plain = value
        self.where = path
        self.override = override
        """The narrowest environment-file field that would replace this value alone: `where`
        itself, unless the value fell back from a narrower block (a service's)."""
        self._resolve = resolve
        self._fallback = fallback

    def __getattr__(self, name: str) -> View:
        model = self.plain
        if not isinstance(model, BaseModel):
            raise AttributeError(f"{source.dotted(self.where)} has no field {name!r}")
        info = type(model).model_fields.get(name)
        if info is None:
            raise AttributeError(f"{type(model).__name__} has no field {name!r}")
        key = info.alias or name
        override = (*self.override, key)
        value = getattr(model, name)
        if value is None:
            found = self._fallback(model, name, override)
            if found is not None:
                return found
        return self._child(value, key, override)

    def __getitem__(self, key: int | str) -> View:
        return self._child(self.plain[key], key, (*self.override, key))

    def __iter__(self) -> Iterator[View]:
        if isinstance(self.plain, dict):
            raise TypeError(f"{source.dotted(self.where)} is a map: iterate .entries()")
        return (self[i] for i in range(len(self.plain)))

    def entries(self) -> Iterator[tuple[str, View]]:
        """A map's entries in sorted key order, each value a view."""
        return ((key, self[key]) for key in sorted(self.plain))

    def step(self, key: str | int) -> View:
        """The child at `key` as the environment file spells it (an alias, an index, a map key)."""
        if isinstance(self.plain, BaseModel):
            found: View = getattr(self, _names(type(self.plain)).get(str(key), str(key)))
            return found
        return self[key]

    @property
    def origin(self) -> provenance.Origin:
        """Where this value comes from: the file's field, else the default that filled it in."""
        return self._resolve(self.where, self.override)

    def traced(self) -> provenance.Traced:
        """The value as it is, with its origin, for an object body."""
        return provenance.Traced(self.plain, self.origin)

    def transformed(self, value: Any, *, exact: bool = False) -> provenance.Traced:
        """`value`, computed from this one (a string of a number, an expression embedding a
        threshold), with this origin; `exact=True` when it still equals what the file says."""
        origin = self.origin
        return provenance.Traced(value, origin if exact else replace(origin, exact=False))

    def seen_from(self, override: source.FieldPath, resolve: Resolve) -> View:
        """This value as a narrower block's fallback: `override` is that block's field, and
        `resolve` finds origins across the two files (a team's service, the platform's
        policy)."""
        return View(self.plain, self.where, override, resolve, self._fallback)

    def _child(self, value: Any, key: str | int, override: source.FieldPath) -> View:
        return View(value, (*self.where, key), override, self._resolve, self._fallback)


_ALIASES: dict[type[BaseModel], dict[str, str]] = {}


def _names(model: type[BaseModel]) -> dict[str, str]:
    """A model's field names by alias (`perTryTimeout` -> `per_try_timeout`)."""
    found = _ALIASES.get(model)
    if found is None:
        fields = model.model_fields.items()
        found = _ALIASES[model] = {info.alias or name: name for name, info in fields}
    return found
