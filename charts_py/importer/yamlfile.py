"""The environment file as a person would write it: keys in the order they were placed,
block style for structure, flow style for small leaves (`{name: v1}`, `port: {number: 80}`,
`hosts: ['*']`), as the sample files do. Same data, same bytes, with libyaml's emitter or the
pure-Python one (no emitter override: libyaml would ignore it; profiled: the pure-Python one
took a quarter of an import)."""

from __future__ import annotations

from typing import Any

import yaml

from charts_py import yamlio

WIDTH = 100
"""The line length of the repository's files."""
FLOW_ITEMS = 4
"""At most this many scalars make a collection a one-line flow (`{name: v1, weight: 90}`)."""

SCHEMA_LINE = "# yaml-language-server: $schema=../charts_py/config/environment.schema.json"


class _Dumper(yamlio.DUMPER):  # type: ignore[valid-type,misc]
    """libyaml's safe dumper where PyYAML has it (the same bytes as the pure-Python one),
    with small leaves in flow style."""


def _flow(value: dict[Any, Any] | list[Any]) -> bool:
    if not value or len(value) > FLOW_ITEMS:  # most collections: without a look at their items
        return False
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) for v in items)


def _mapping(dumper: yaml.representer.SafeRepresenter, value: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=_flow(value))


def _sequence(dumper: yaml.representer.SafeRepresenter, value: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=_flow(value))


_Dumper.add_representer(dict, _mapping)
_Dumper.add_representer(list, _sequence)


def dump(data: dict[str, Any], header: list[str]) -> str:
    """The file's text: `header` as comment lines, then the data."""
    body = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, width=WIDTH, allow_unicode=True, indent=2
    )
    comments = [SCHEMA_LINE, *(f"# {line}" for line in header)]
    return "\n".join(comments) + "\n" + body
