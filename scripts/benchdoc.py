"""The benchmarks' results into docs/development.md, written by the benchmarks themselves.

Each benchmark prints its lines as it goes; with `--docs`, it also replaces one marked block
of docs/development.md with a table of its results and the lines it printed, headed by the
command, the commit and the date. A block is everything between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`; nothing else in the page is touched.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "development.md"


class Record:
    """What a benchmark says: printed now, and kept for its block in the docs."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def write(name: str, header: Sequence[str], rows: Sequence[Sequence[str]], record: Record) -> None:
    """Replace block `name` with a table (`header`, `rows`) and the printed lines."""
    text = DOC.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if text.count(start) != 1 or text.count(end) != 1:
        raise SystemExit(f"{DOC}: no single block {start} ... {end} to write into")
    before, rest = text.split(start)
    _, after = rest.split(end)
    table = [_row(header), _row(["---"] + ["---:"] * (len(header) - 1)), *map(_row, rows)]
    command = " ".join([".venv/bin/python", f"scripts/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    day = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"Written by `{command}` at {_commit()}, {day}:",
        "",
        *table,
        "",
        "```",
        *record.lines,
        "```",
    ]
    DOC.write_text(before + start + "\n" + "\n".join(body) + "\n" + end + after, encoding="utf-8")
    print(f"wrote block {name} of {DOC.relative_to(REPO)}", file=sys.stderr)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "charts_py", "scripts")
    return git("rev-parse", "--short", "HEAD") + (" with uncommitted changes" if dirty else "")
