"""When two objects pass or fail their schema alike: the strings no schema constraint reads.

An estate's objects of one kind differ mostly in names and hosts (`svc-041`,
`svc-041.estate.svc.cluster.local`), and their kind's schema reads most strings only for their
type. Such a string can be replaced by any other string without changing what the schema
says of the object. `key(obj, reads)` does that, so that 1,900 VirtualServices which differ
only in such strings share one key and are checked once (validate/schemas.py).

What a schema reads is found once per kind by walking it, `$ref`s followed: the places
(property names, `*` for any map value, `[]` for any array item) where a subschema
constrains a value beyond its type (`enum`, `const`, `pattern`), or gives an array's
positions different schemas. There, the value and everything below it is kept as it is;
so is everything below a place a `$ref` cycle reaches again. Where only a string's length
is constrained (`minLength`, `maxLength`), its length goes into the key with its token. An object's
key cannot tell a map's key from a property's name, so a value is kept if either reading
reaches a constraint. `format` is left out: the validators do not assert formats
(jsonschema's default).

A replaced string becomes a token naming the order in which it first appeared in the
object: equal strings stay equal and distinct ones distinct (`uniqueItems` reads the same).
Map keys and every value that is not a string are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Resolve = Callable[[str], tuple[Any, "Resolve"]]
"""A `$ref` to the schema it names, and how to resolve the `$ref`s inside that one (they
are relative to its document)."""

VALUE_CONSTRAINTS = ("enum", "const", "pattern")
"""The keywords that read a value beyond its type and length."""
LENGTH_CONSTRAINTS = ("minLength", "maxLength")
"""The keywords that read a string's length (and nothing else of it)."""
ANY_KEY, ANY_ITEM = "*", "[]"
_SAME_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else")
"""Subschemas that apply where their parent applies."""
_MAPS = ("additionalProperties", "unevaluatedProperties")
_ITEMS = ("items", "additionalItems", "contains", "unevaluatedItems")


@dataclass(frozen=True)
class Reads:
    """A tree of the places where a schema reads values: `kept` there, and below."""

    kept: bool = False
    length: bool = False
    """Only a string's length is read here: a replaced string keeps its length in the key."""
    below: dict[str, Reads] = field(default_factory=dict)


KEPT = Reads(kept=True)


def reads(schema: Any, resolve: Resolve) -> Reads:
    """Where `schema` reads values; `resolve` follows its `$ref`s."""
    return _Walk().tree(schema, resolve, ()) or Reads()


def key(obj: dict[str, Any], reads: Reads) -> str:
    """`obj` as its schema sees it, as text: equal for objects that differ only in strings
    its schema does not read."""
    tokens: dict[str, str] = {}
    return json.dumps(_blank(obj, (reads,), tokens), sort_keys=True, default=repr)


class _Walk:
    """One schema's walk, each subschema's answer kept: Kubernetes' definitions are shared
    (ObjectMeta is reached from every kind, and twice in a Deployment)."""

    def __init__(self) -> None:
        self.done: dict[int, Reads | None] = {}

    def tree(self, node: Any, resolve: Resolve, stack: tuple[int, ...]) -> Reads | None:
        """What `node` reads (None: nothing); `stack` holds the subschemas being walked:
        where a `$ref` cycle comes back, everything is kept."""
        if not isinstance(node, dict):
            return None
        if id(node) in stack:
            return KEPT
        if id(node) not in self.done:
            self.done[id(node)] = self._read(node, resolve, (*stack, id(node)))
        return self.done[id(node)]

    def _read(self, node: dict[str, Any], resolve: Resolve, stack: tuple[int, ...]) -> Reads | None:
        if any(k in node for k in VALUE_CONSTRAINTS) or isinstance(node.get("items"), list):
            return KEPT  # (an array whose positions have their own schemas: kept whole)
        found: list[Reads | None] = (
            [Reads(length=True)] if any(k in node for k in LENGTH_CONSTRAINTS) else []
        )
        if isinstance(node.get("$ref"), str):
            target, within = resolve(node["$ref"])
            found.append(self.tree(target, within, stack))
        for sub in _same_place(node):
            found.append(self.tree(sub, resolve, stack))
        below: dict[str, list[Reads | None]] = {}
        for name, sub in (node.get("properties") or {}).items():
            below.setdefault(name, []).append(self.tree(sub, resolve, stack))
        for sub in _map_values(node):
            below.setdefault(ANY_KEY, []).append(self.tree(sub, resolve, stack))
        for word in (*_ITEMS, "prefixItems"):
            for sub in _each(node.get(word)):
                below.setdefault(ANY_ITEM, []).append(self.tree(sub, resolve, stack))
        steps = {step: r for step, trees in below.items() if (r := _merged(trees)) is not None}
        return _merged([*found, Reads(below=steps) if steps else None])


def _merged(trees: list[Reads | None]) -> Reads | None:
    """What any of `trees` reads (None: none reads anything)."""
    present = [t for t in trees if t is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    if any(t.kept for t in present):
        return KEPT
    steps: dict[str, list[Reads | None]] = {}
    for tree in present:
        for step, sub in tree.below.items():
            steps.setdefault(step, []).append(sub)
    below = {step: m for step, subs in steps.items() if (m := _merged(subs)) is not None}
    return Reads(length=any(t.length for t in present), below=below)


def _same_place(node: dict[str, Any]) -> list[Any]:
    """The subschemas that apply where `node` applies: combinators, conditionals, and
    (draft 7) `dependencies`."""
    subs = [sub for word in _SAME_PLACE for sub in _each(node.get(word))]
    for word in ("dependentSchemas", "dependencies"):
        subs += [sub for sub in (node.get(word) or {}).values() if isinstance(sub, dict)]
    return subs


def _map_values(node: dict[str, Any]) -> list[Any]:
    """The subschemas of a map's values."""
    return [*(node.get(w) for w in _MAPS), *(node.get("patternProperties") or {}).values()]


def _each(value: Any) -> list[Any]:
    """A subschema or a list of them, as a list."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _blank(value: Any, places: tuple[Reads, ...], tokens: dict[str, str]) -> Any:
    """`value` with the strings no constraint reads replaced by their tokens; `places` are
    where it may sit in the schema's tree."""
    if not places:
        return _all_blank(value, tokens)
    if any(p.kept for p in places):
        return value
    if isinstance(value, str):
        token = tokens.setdefault(value, f"\x00{len(tokens)}")
        return f"{token}:{len(value)}" if any(p.length for p in places) else token
    if isinstance(value, dict):
        return {k: _blank(v, _next(places, k, ANY_KEY), tokens) for k, v in value.items()}
    if isinstance(value, list):
        inner = _next(places, ANY_ITEM)
        return [_blank(v, inner, tokens) for v in value]
    return value


def _all_blank(value: Any, tokens: dict[str, str]) -> Any:
    """`value` where the schema reads nothing below: every string replaced."""
    if isinstance(value, str):
        return tokens.setdefault(value, f"\x00{len(tokens)}")
    if isinstance(value, dict):
        return {k: _all_blank(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_blank(v, tokens) for v in value]
    return value


def _next(places: tuple[Reads, ...], *steps: str) -> tuple[Reads, ...]:
    """Where a value below `places` may sit, reached by any of `steps`."""
    return tuple(p.below[s] for p in places for s in steps if s in p.below)
