"""Markdown building blocks shared by the generated pages and reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def cell(text: str) -> str:
    """A table cell: `|` would end the cell and a newline the row, so both are escaped."""
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str = "-") -> list[str]:
    """The lines of a GitHub-flavoured Markdown table; an empty cell shows as `empty`."""
    lines = [_row(header), "|" + "---|" * len(header)]
    lines += [_row([c or empty for c in row]) for row in rows]
    return lines


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def percent(ratio: float) -> str:
    """`0.02` -> `2%`, `0.015` -> `1.5%` (rounded first: 0.07 * 100 is 7.000000000000001)."""
    return f"{round(ratio * 100, 6):g}%"
