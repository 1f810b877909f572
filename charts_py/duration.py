"""Durations as Istio and Kubernetes write them (`1.5s`, `250ms`, `1m30s`), in seconds.

Shared by validate (route budgets) and review (timeouts against retry budgets); a leaf module,
so a command that only compares durations does not import validate's rule machinery.
"""

from __future__ import annotations

import re

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(h|ms|m|s|us|µs|ns)")


def seconds(text: object) -> float | None:
    """Seconds in a duration such as `1.5s`, `250ms` or `1m30s`; None if not one."""
    if not isinstance(text, str) or not text:
        return None
    total, end = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != end:
            return None
        total += float(match.group(1)) * _UNITS[match.group(2)]
        end = match.end()
    return total if end == len(text) else None


def shown(value: float) -> str:
    """Seconds written back as a duration: `9s`, `4.5s`, `250ms`."""
    if value < 1:
        return f"{value * 1000:g}ms"
    return f"{value:g}s"
