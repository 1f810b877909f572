"""YAML in and out through libyaml when PyYAML has it (about 10x faster than pure Python).

Both paths accept and produce the same documents for our data; dist/ bytes are tested to be
identical with either emitter (tests/unit/test_render.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str | bytes) -> Any:
    """One document (safe types only)."""
    return yaml.load(text, Loader=LOADER)


def load_all(text: str | bytes) -> Iterator[Any]:
    """Every document of a multi-document stream (safe types only)."""
    return yaml.load_all(text, Loader=LOADER)
