"""The `meshops` command: parse arguments, call the library, map outcomes to exit codes.

Exit codes: 0 success, 1 a check found differences, 2 could not run (bad input).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from charts_py.errors import MeshopsError

EXIT_OK, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except MeshopsError as exc:
        err.print(f"meshops: error: {exc}", markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meshops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="render environments/*.yaml into dist/")
    synth.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="E",
        help="only this environment (repeatable); default: all",
    )
    synth.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if dist/ differs from a fresh render",
    )
    synth.add_argument("--environments", type=Path, default=Path("environments"), metavar="DIR")
    synth.add_argument("--dist", type=Path, default=Path("dist"), metavar="DIR")
    synth.set_defaults(handler=_synth)

    schema = commands.add_parser("schema", help="write the environment JSON Schema for editors")
    schema.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="F",
        help="default: charts_py/config/environment.schema.json",
    )
    schema.set_defaults(handler=_schema)
    return parser


def _synth(args: argparse.Namespace) -> int:
    from charts_py.render import synth  # imports cdk8s (starts node): only when needed

    started = time.monotonic()
    result = synth.run(args.environments, args.dist, args.env, check=args.check)
    seconds = time.monotonic() - started
    changes = result.changes
    counts = (
        f"{len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.removed)} removed"
    )
    if args.check:
        if changes.empty:
            out.print(
                f"{args.dist}/ is up to date ({len(result.manifests)} objects, {seconds:.1f}s)"
            )
            return EXIT_OK
        for label, paths in (
            ("added", changes.added),
            ("changed", changes.changed),
            ("removed", changes.removed),
        ):
            for path in paths:
                out.print(f"  would be {label}: {args.dist}/{path}", markup=False)
        err.print(f"meshops: {args.dist}/ is stale ({counts}): run `meshops synth` and commit")
        return EXIT_DIFFERENT
    out.print(
        f"synth: {len(result.manifests)} objects -> {args.dist}/ ({counts}) in {seconds:.1f}s"
    )
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from charts_py.config import schema

    target = args.output or schema.SCHEMA_FILE
    target.write_text(schema.text(), encoding="utf-8")
    out.print(f"wrote {target}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
