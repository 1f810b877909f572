"""Edit an environment file the way a person would: change the values, keep everything else.

ruamel.yaml's round-trip mode keeps comments, flow-style mappings (`{name: v1, weight: 90}`),
quoting and key order; with the indentation of our files (`mapping=2, sequence=4, offset=2`)
loading and dumping an unedited file gives back its exact bytes (tests/unit/test_propose_edit.py
holds every file of environments/ to that). Missing mappings on the way to a field are created:
a top-level one (`policy:`) in block style, deeper ones in flow style like the files' own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from charts_py.config import source
from charts_py.config.source import FieldPath

Seed = Callable[[FieldPath], dict[str, Any]]
"""What a created mapping starts with: the effective values a service's block replaces
(a service's `retries:` replaces the policy's whole, so it must say every retry field)."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a long line the author wrote on one
    return yaml


def set_fields(text: str, edits: Iterable[tuple[FieldPath, Any]], seed: Seed) -> str:
    """`text` with each field set to its value; ValueError when a path cannot be followed
    (an index past a list's end, a scalar where a mapping should be)."""
    yaml = _yaml()
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise ValueError(f"cannot edit: {exc}") from None
    for path, value in edits:
        _set(doc, path, value, seed)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def _set(doc: Any, path: FieldPath, value: Any, seed: Seed) -> None:
    node = doc
    for depth, key in enumerate(path[:-1]):
        node = _child(node, key, path[: depth + 1], seed)
    last = path[-1]
    if isinstance(node, CommentedSeq) and isinstance(last, int) and last < len(node):
        node[last] = _like(node[last], value)
    elif isinstance(node, CommentedMap) and isinstance(last, str):
        node[last] = _like(node.get(last), value)
    else:
        raise ValueError(f"cannot set {_show(path)}: no such place in the file")


def _child(node: Any, key: str | int, at: FieldPath, seed: Seed) -> Any:
    """The node at `key`, creating a mapping there when the file does not have one yet."""
    if isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
        return node[key]
    if isinstance(node, CommentedMap) and isinstance(key, str):
        if node.get(key) is None:
            created = CommentedMap(seed(at))
            if len(at) > 1:
                created.fa.set_flow_style()
            node[key] = created
        return node[key]
    raise ValueError(f"cannot set {_show(at)}: no such place in the file")


def _like(old: Any, value: Any) -> Any:
    """`value` in the scalar style of the value it replaces (a quoted string stays quoted)."""
    if isinstance(value, str) and isinstance(old, str) and type(old) is not str:
        return type(old)(value)  # ruamel's quoted-string classes keep their quotes
    return value


def _show(path: FieldPath) -> str:
    return source.dotted(path)
