"""The typed pass of loading an environment: data checked against a pydantic model (model.py,
the generated Istio types), its first error turned into one ConfigError naming the file, the
line and the field as the file spells it.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from charts_py.config import source
from charts_py.errors import ConfigError

T = TypeVar("T", bound=BaseModel)


def validated(model: type[T], data: object, src: source.Source, prefix: source.FieldPath) -> T:
    """`data` as `model`, or a ConfigError at `prefix` (the data's place in the file)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail: ErrorDetails = exc.errors()[0]
        loc = (*prefix, *_in_data(data, detail["loc"]))
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        elif detail["type"] == "literal_error":
            message = f"{message} (got {detail['input']!r})"
        raise ConfigError(src.file, source.dotted(loc), message, src.line_of(loc)) from None


def _in_data(data: object, loc: tuple[int | str, ...]) -> source.FieldPath:
    """`loc` without pydantic's union member tags (`timeout.constrained-str`,
    `retries.Retries.attempts`, `timeout.literal[False]`): a tag is no key of the file's
    data at that point, and no field of ours is spelled like one (capitalised, or with `-`,
    `[`)."""
    out: list[int | str] = []
    for part in loc:
        here = isinstance(data, dict) and part in data
        if not here and _member_tag(part):
            continue
        out.append(part)
        data = _child(data, part)
    return tuple(out)


def _child(data: object, part: int | str) -> object:
    """The data at `part` of `data`, or None where the file has none."""
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return None


def _member_tag(part: int | str) -> bool:
    """A union member's name in a pydantic error location, never a field of ours."""
    if isinstance(part, int):
        return False
    return part[:1].isupper() or "-" in part or "[" in part or part in ("str", "int", "bool")
