"""Read one YAML file into plain data plus a map from field path to line number.

PyYAML silently keeps the last of two duplicate keys and forgets positions; both matter for
error messages that name the line a user must fix, so we walk the composed node tree ourselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import yamlio
from charts_py.errors import ConfigError

FieldPath = tuple[str | int, ...]

_PART = re.compile(r"\[([0-9]+)\]|\.?([^.\[\]]+)")


def dotted(path: FieldPath, *, indices: bool = True) -> str:
    """A field path as messages and reports name it: `services[6].retries.attempts`; without
    `indices`, any list item: `services[].port`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]" if indices else "[]"
        else:
            out += f".{part}" if out else part
    return out


def field_path(name: str) -> FieldPath:
    """The field path `dotted` wrote (`services[6].timeout` -> ("services", 6, "timeout"))."""
    return tuple(int(i) if i else key for i, key in _PART.findall(name))


@dataclass(frozen=True)
class Source:
    """Parsed content of one YAML file and where each field was written."""

    file: str
    data: Any
    lines: dict[FieldPath, int]

    def line_of(self, path: FieldPath) -> int | None:
        """The line of `path`, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def read(path: Path, display: str) -> Source:
    """Parse `path` (a single YAML document) or raise ConfigError naming `display`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(display, "", f"cannot read file: {exc.strerror}") from exc
    return parse(text, display)


def parse(text: str, display: str) -> Source:
    """Parse YAML text (a single document) or raise ConfigError naming `display`."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yamlio.LOADER))  # libyaml: same nodes, marks
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(display, "", f"malformed YAML: {exc.problem}", line) from exc
    if len(nodes) != 1 or nodes[0] is None:
        reason = "file is empty" if not nodes or nodes[0] is None else "expected one YAML document"
        raise ConfigError(display, "", reason)
    lines: dict[FieldPath, int] = {}
    data = _Converter(display, lines).convert(nodes[0], ())
    return Source(display, data, lines)


_STR = "tag:yaml.org,2002:str"


class _Converter:
    """One file's nodes as plain data, each path's line recorded in `lines`. Scalars other
    than strings go through a safe constructor of this parse's own: PyYAML's keeps every node
    it built until its next document, which a shared one never starts."""

    def __init__(self, file: str, lines: dict[FieldPath, int]) -> None:
        self.file, self.lines = file, lines
        self.scalars = yaml.constructor.SafeConstructor()

    def convert(self, node: yaml.Node, path: FieldPath) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalar(key_node)
                if key in result:
                    field = ".".join(str(p) for p in (*path, key))
                    line = key_node.start_mark.line + 1
                    raise ConfigError(self.file, field, "duplicate key", line)
                result[key] = self.convert(value_node, (*path, str(key)))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        """A string as written (most of a file: PyYAML's constructor returns the same
        value), anything else as PyYAML's safe constructor builds it."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            return node.value
        return self.scalars.construct_object(node)
