"""YAML in and out through libyaml when PyYAML has it (about 10x faster than pure Python).

Both paths accept and produce the same documents for our data; dist/ bytes are tested to be
identical with either emitter (tests/unit/test_render.py).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import yaml

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(LOADER):  # type: ignore[valid-type,misc]
    """The safe loader with its tag resolution memoized: it tries regular expressions on
    every plain scalar (`80`, `true`, `TCP`), and with no path resolvers (the safe loader
    has none) the answer depends on the node's kind, text and style alone. libyaml's composer
    calls `resolve` from C for every node: the memo is a C-level cache, so a hit runs no
    Python frame (a third of the parse of a 70 kB environment file). For the same reason the
    composer's calls to track the path of each node (twice per node, from C) are builtins
    that do nothing, not Python methods that return at once."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        nothing: dict[object, object] = {}
        self.descend_resolver = nothing.get  # (parent, index) -> index, never looked at
        self.ascend_resolver = int  # () -> 0, never looked at
        self.resolve = _tag


@functools.lru_cache(maxsize=65536)
def _tag(kind: type[yaml.Node], value: str | None, implicit: tuple[bool, bool] | bool) -> str:
    return str(_RESOLVER.resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


_RESOLVER = yaml.resolver.Resolver()


def load(text: str | bytes) -> Any:
    """One document (safe types only), exactly as `yaml.safe_load` reads it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _construct(loader, node)
        except RecursionError:  # an alias inside itself: PyYAML builds the cycle
            return loader.construct_document(node)
    finally:
        loader.dispose()


def load_with_nodes(text: str | bytes) -> tuple[Any, yaml.Node | None]:
    """One document as `load` reads it, and its node tree (each node knows its line): one
    parse for both the data and where each value was written."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return (None if node is None else _construct(loader, node)), node
    finally:
        loader.dispose()


def line_of(node: yaml.Node | None, path: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the value at `path` (keys and list indices) in a node tree, or of
    its nearest ancestor that is there."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                return line
            line, node = found[0].start_mark.line + 1, found[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def load_all(text: str | bytes) -> Iterator[Any]:
    """Every document of a multi-document stream (safe types only)."""
    return yaml.load_all(text, Loader=LOADER)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """`node` as Python data, without PyYAML's generic constructor machinery: string scalars,
    maps and lists (nearly all of a manifest) are built directly, every other scalar by
    PyYAML's own SafeConstructor, so the result is the same (tests/unit/test_yamlio.py);
    tagged collections, merge keys and non-scalar keys go the generic way too (its errors
    included). Reading dist/ at a commit is most of drift's time; this takes a third off it
    (PyYAML's constructor is pure Python even with libyaml's parser)."""
    kind, tag = type(node), node.tag
    if kind is yaml.ScalarNode:
        return node.value if tag == _STR else loader.construct_object(node, deep=True)
    if kind is yaml.SequenceNode and tag == _SEQ:
        return [_construct(loader, item) for item in node.value]
    if kind is yaml.MappingNode and tag == _MAP:
        out = {}
        for key_node, value_node in node.value:
            if type(key_node) is not yaml.ScalarNode or key_node.tag == _MERGE:
                return loader.construct_object(node, deep=True)
            key = key_node.value if key_node.tag == _STR else _construct(loader, key_node)
            if type(value_node) is yaml.ScalarNode and value_node.tag == _STR:
                out[key] = value_node.value  # most values: no call for them
            else:
                out[key] = _construct(loader, value_node)
        return out
    return loader.construct_object(node, deep=True)
