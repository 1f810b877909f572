"""The `meshops` command: parse arguments, call the library, map outcomes to exit codes.

Exit codes: 0 success, 1 a check found differences, 2 could not run (bad input).
"""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Sequence
from typing import NoReturn

import charts_py
from charts_py.cli import adopt, author, operate, propose, review
from charts_py.cli.console import EXIT_ERROR, err
from charts_py.errors import MeshopsError
from charts_py.speed import process


def entry() -> NoReturn:
    """The console script: `main`, then out through the exit handlers but without the
    interpreter's teardown (speed/process.py: `leave`).

    A crash (an exception no command maps) prints its traceback and exits 2, "could not
    complete": Python's own 1 would read as "differences found", and the nightly job counts
    1 as a successful run (found by tests/image: a proposal that crashed passed for drift)."""
    try:
        code = main()
    except Exception:
        traceback.print_exc()
        code = EXIT_ERROR
    process.leave(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: the process's), run the command; its exit code."""
    args = parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except MeshopsError as exc:
        err.print(f"meshops: error: {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


def parser() -> argparse.ArgumentParser:
    """The whole command line: every subcommand with its options (docs are checked against it)."""
    description = (charts_py.__doc__ or "").splitlines()[0]
    top = argparse.ArgumentParser(prog="meshops", description=description)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    author.register(commands)
    operate.register(commands)
    propose.register(commands)
    review.register(commands)
    adopt.register(commands)
    return top


if __name__ == "__main__":
    entry()
