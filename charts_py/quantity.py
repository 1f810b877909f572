"""Kubernetes resource quantities (`250m`, `128Mi`, `1.5Gi`, `2`) as exact decimal amounts.

Shared by drift (the API server stores quantities canonically, so `1000m` must equal `1`) and
the cost report (CPU cores and bytes requested by the environment files). Decimal, not float:
amounts are summed and priced, and `0.1 + 0.2` must stay `0.3`. The suffixes are those of
Kubernetes' resource.Quantity (apimachinery/pkg/api/resource/suffix.go).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(
    r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)


def amount(text: str) -> Decimal:
    """The amount of a quantity string (cores for CPU, bytes for memory); ValueError if it
    is not a quantity."""
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    try:
        return (Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]).normalize()
    except InvalidOperation:
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from None


def comparable(text: str) -> Decimal | str:
    """The amount of `text`, or `text` itself when it is not a quantity (drift compares
    whatever it finds; a malformed value is a difference, not a crash)."""
    try:
        return amount(text)
    except ValueError:
        return text
