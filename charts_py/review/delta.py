"""Where two versions of one object differ, as JSON Pointers to the differing leaves."""

from __future__ import annotations

from typing import Any

from charts_py import jsonpointer

_ABSENT = object()


def paths(before: Any, after: Any, at: str = "") -> list[str]:
    """The pointers under `at` whose values differ: map keys one by one, lists of equal length
    item by item; a list that grew or shrank, or a value that changed type, is one pointer."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(before.keys() | after.keys()):
            step = f"{at}/{jsonpointer.escape(key)}"
            out += paths(before.get(key, _ABSENT), after.get(key, _ABSENT), step)
        return out
    if isinstance(before, list) and isinstance(after, list):
        old, new = _named(before), _named(after)
        if old is not None and new is not None:
            return _by_name(old, new, at)
        if len(before) == len(after):
            out = []
            for i, (one, other) in enumerate(zip(before, after, strict=True)):
                out += paths(one, other, f"{at}/{i}")
            return out
    return [at]


def _named(items: list[Any]) -> dict[str, tuple[int, Any]] | None:
    """Items by their `name` when every item is a map with a distinct name (Istio's HTTP
    routes, subsets, ports, containers), else None."""
    names = [i.get("name") if isinstance(i, dict) else None for i in items]
    if not items or None in names or len(set(names)) != len(names):
        return None
    return {str(n): (i, item) for i, (n, item) in enumerate(zip(names, items, strict=True))}


def _by_name(
    old: dict[str, tuple[int, Any]], new: dict[str, tuple[int, Any]], at: str
) -> list[str]:
    """Named items compared by name: an item that moved is not a change; one added or
    removed is one pointer (its index at the side that has it)."""
    out: list[str] = []
    for name in sorted(old.keys() | new.keys(), key=lambda n: (new.get(n) or old[n])[0]):
        if name in old and name in new:
            out += paths(old[name][1], new[name][1], f"{at}/{new[name][0]}")
        elif (pointer := f"{at}/{(new.get(name) or old[name])[0]}") not in out:
            out.append(pointer)  # one name taken away and another added there: once
    return out


def value(obj: Any, pointer: str) -> Any:
    """The value at `pointer` in `obj`, or None where there is none."""
    for token in jsonpointer.tokens(pointer):
        if isinstance(obj, dict):
            obj = obj.get(token)
        elif isinstance(obj, list) and token.isdigit() and int(token) < len(obj):
            obj = obj[int(token)]
        else:
            return None
    return obj


def under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether `path` is one of `prefixes` or inside one of them (whole tokens)."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)
