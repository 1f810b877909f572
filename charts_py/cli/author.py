"""Commands that work from the environment files and dist/: synth, schema, cost, validate,
audit. Parse, call the library, map outcomes to exit codes; nothing else."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charts_py.cli.console import EXIT_DIFFERENT, EXIT_OK, err, out

if TYPE_CHECKING:
    pass


def register(commands: Any) -> None:
    """Add this module's subcommands."""
    for add in (_add_synth, _add_schema, _add_cost, _add_validate, _add_audit):
        add(commands)


def _add_synth(commands: Any) -> None:
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


def _add_schema(commands: Any) -> None:
    schema = commands.add_parser("schema", help="write the environment JSON Schema for editors")
    schema.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="F",
        help="default: charts_py/config/environment.schema.json",
    )
    schema.set_defaults(handler=_schema)


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser("validate", help="check manifests: schemas and mesh rules")
    validate.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="YAML files or folders; default: every dist/<env> under its environment's profile",
    )
    validate.add_argument(
        "--env",
        default=None,
        metavar="E",
        help="with PATHs: use this environment's (or profile's) rules; default: prod. "
        "Without: only dist/E",
    )
    validate.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="with PATHs: leave out files (or folders) matching GLOB; repeatable",
    )
    validate.add_argument(
        "--namespace",
        default="default",
        metavar="N",
        help="with PATHs: the namespace of objects that name none (as kubectl apply -n N)",
    )
    validate.add_argument(
        "--no-istioctl", action="store_true", help="do not run istioctl analyze as well"
    )
    validate.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    validate.add_argument("--environments", type=Path, default=Path("environments"), metavar="DIR")
    validate.add_argument("--dist", type=Path, default=Path("dist"), metavar="DIR")
    validate.set_defaults(handler=_validate)


def _add_audit(commands: Any) -> None:
    audit = commands.add_parser("audit", help="compliance report of dist/<env> by control")
    audit.add_argument("--env", required=True, metavar="E")
    audit.add_argument("--format", choices=("markdown", "json"), default="markdown")
    audit.add_argument("--environments", type=Path, default=Path("environments"), metavar="DIR")
    audit.add_argument("--dist", type=Path, default=Path("dist"), metavar="DIR")
    audit.set_defaults(handler=_audit)


def _add_cost(commands: Any) -> None:
    cost = commands.add_parser("cost", help="monthly cost of requests; what Sidecar scoping saves")
    cost.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="E",
        help="only this environment (repeatable); default: all",
    )
    cost.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    cost.add_argument("--environments", type=Path, default=Path("environments"), metavar="DIR")
    cost.set_defaults(handler=_cost)


def _synth(args: argparse.Namespace) -> int:
    from charts_py.render import startup

    with startup.overlapped():  # node starts while the pydantic models import
        from charts_py.render import synth  # imports cdk8s (starts node): only when needed

    started = time.monotonic()
    result = synth.run(args.environments, args.dist, args.env, check=args.check)
    seconds = time.monotonic() - started
    _print_warnings(result.warnings)
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


def _validate(args: argparse.Namespace) -> int:
    from charts_py.validate import report, second_opinion, targets

    if args.paths:
        profile = targets.profile_of(args.env, args.environments)
        chosen = targets.for_paths(args.paths, profile, args.exclude, args.namespace)
    else:
        chosen = targets.for_dist(args.dist, args.environments, [args.env] if args.env else [])
    opinion = second_opinion.skipped() if args.no_istioctl else second_opinion.review(chosen)
    result = targets.run(chosen).merged(opinion)
    for note in result.notes:
        err.print(f"validate: {note}", markup=False)
    sys.stdout.write(report.render(result, args.format))
    return EXIT_DIFFERENT if result.errors else EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    from charts_py.validate import audit, targets

    [target] = targets.for_dist(args.dist, args.environments, [args.env])
    sys.stdout.write(audit.render(audit.build(args.env, target), args.format))
    return EXIT_OK


def _cost(args: argparse.Namespace) -> int:
    from charts_py.config import environment
    from charts_py.cost import estimate, formats

    envs = environment.load_all(args.environments)
    selected = environment.select(envs, args.env, str(args.environments))
    sys.stdout.write(formats.RENDERERS[args.format](estimate.estimate_all(selected)))
    return EXIT_OK


def _print_warnings(warnings: Sequence[Any]) -> None:
    for warning in warnings:
        err.print(f"meshops: {warning.text}", markup=False)
