"""The `meshops` command: parse arguments, call the library, map outcomes to exit codes.

Exit codes: 0 success, 1 a check found differences, 2 could not run (bad input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import charts_py
from charts_py.cli import author, operate, propose
from charts_py.cli.console import EXIT_ERROR, err
from charts_py.errors import MeshopsError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
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
    return top


if __name__ == "__main__":
    sys.exit(main())
