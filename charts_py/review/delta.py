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
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (one, other) in enumerate(zip(before, after, strict=True)):
            out += paths(one, other, f"{at}/{i}")
        return out
    return [at]


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
