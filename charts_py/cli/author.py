"""Commands that work from the environment files and dist/: synth, schema, cost, validate,
audit, plan-ambient. Parse, call the library, map outcomes to exit codes; nothing else."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from charts_py import format_names
from charts_py.cli import shared
from charts_py.cli.console import EXIT_DIFFERENT, EXIT_OK, err, out
from charts_py.speed import process


def register(commands: Any) -> None:
    """Add this module's subcommands."""
    for add in (_add_synth, _add_schema, _add_cost, _add_validate, _add_audit, _add_plan_ambient):
        add(commands)


def _add_synth(commands: Any) -> None:
    synth = commands.add_parser(
        "synth",
        help="render environments/*.yaml into dist/",
        parents=[shared.envs(), shared.environments(), shared.dist()],
    )
    synth.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if dist/ differs from a fresh render",
    )
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
    meaning = (
        "with PATHs: use this environment's (or profile's) rules; default: prod. "
        "Without: only dist/E"
    )
    validate = commands.add_parser(
        "validate",
        help="check manifests: schemas and mesh rules",
        parents=[shared.env(required=False, meaning=meaning), shared.environments(), shared.dist()],
    )
    validate.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="YAML files or folders; default: every dist/<env> under its environment's profile",
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
    validate.add_argument("--format", choices=format_names.VALIDATE, default="text")
    validate.set_defaults(handler=_validate)


def _add_audit(commands: Any) -> None:
    audit = commands.add_parser(
        "audit",
        help="compliance report of dist/<env> by control",
        parents=[shared.env(), shared.environments(), shared.dist()],
    )
    audit.add_argument("--format", choices=format_names.AUDIT, default="markdown")
    audit.set_defaults(handler=_audit)


def _add_cost(commands: Any) -> None:
    cost = commands.add_parser(
        "cost",
        help="monthly cost of requests; what Sidecar scoping saves",
        parents=[shared.envs(), shared.environments()],
    )
    cost.add_argument("--format", choices=format_names.COST, default="text")
    cost.set_defaults(handler=_cost)


def _add_plan_ambient(commands: Any) -> None:
    plan = commands.add_parser(
        "plan-ambient",
        help="per namespace, what moving it from sidecars to ambient changes, and the steps",
        parents=[shared.env(), shared.environments()],
    )
    plan.add_argument("--format", choices=format_names.PLAN_AMBIENT, default="text")
    plan.set_defaults(handler=_plan_ambient)


NODE_BOUND = ("cdk8s", "charts_py.render.synth")
"""What synth imports that starts node (cdk8s first: node's start-up is what to overlap)."""
PURE_PYTHON = ("charts_py.config.environment",)
"""What synth imports that needs no node and is slow to import: the pydantic models."""


def _synth(args: argparse.Namespace) -> int:
    process.imported(NODE_BOUND, meanwhile=PURE_PYTHON)  # node starts while pydantic imports
    from charts_py.render import synth  # imported just now (cdk8s only when synth runs)

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
    if args.output is None:  # the team file's schema beside it
        schema.TEAM_SCHEMA_FILE.write_text(schema.team_text(), encoding="utf-8")
        out.print(f"wrote {schema.TEAM_SCHEMA_FILE}")
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


def _plan_ambient(args: argparse.Namespace) -> int:
    from charts_py.plan import ambient, report

    moves = ambient.plan(args.environments, args.env)
    sys.stdout.write(report.RENDERERS[args.format](args.env, moves))
    return EXIT_OK


def _print_warnings(warnings: Sequence[Any]) -> None:
    for warning in warnings:
        err.print(f"meshops: {warning.text}", markup=False)
