"""Live values back in the environment file's form.

The drift report holds values as the comparison saw them: quantities as plain amounts
(`"0.75"` CPU, `"805306368"` bytes), integral floats as ints. A person writes `750m` and
`768Mi`, so an amount is written in the unit of the value it replaces when it is a whole
number of that unit; everything else (durations such as `"5s"`, names, ints) is written as
live holds it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from charts_py import quantity

_UNIT = re.compile(r"^[0-9.]+([a-zA-Z]*)$")


def config_form(live: Any, current: Any) -> Any:
    """`live` as the environment file would say it, in the style of `current`."""
    if isinstance(current, str) and isinstance(live, str | int | float) and _is_quantity(current):
        return _in_unit(quantity.amount(str(live)), current) if _is_quantity(str(live)) else live
    if isinstance(live, float) and live.is_integer() and not isinstance(current, float):
        return int(live)
    return live


def _is_quantity(text: str) -> bool:
    try:
        quantity.amount(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"[0-9.]+[a-zA-Z]*", text))


def _in_unit(amount: Decimal, example: str) -> str:
    """`amount` with `example`'s suffix (`0.75`, `250m` -> `750m`), else plainly."""
    unit = _UNIT.fullmatch(example)
    suffix = unit[1] if unit else ""
    scale = quantity.amount(f"1{suffix}")
    count = amount / scale
    if count == count.to_integral_value():
        return f"{int(count)}{suffix}"
    return format(amount.normalize(), "f")
