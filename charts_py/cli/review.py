"""`meshops review`: what a change to dist/ means for traffic and security, and how risky.

Exit codes: 0 reviewed (and under the `--fail-on` gate), 1 a change at or above the gate's
risk, 2 could not review (unknown ref, no dist/, an environment missing at one side).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from charts_py import format_names
from charts_py.cli import shared
from charts_py.cli.console import EXIT_DIFFERENT, EXIT_OK

RISKS = ("critical", "high", "medium", "low")
"""`--fail-on`'s choices: review.model.Risk's classes, highest first."""


def register(commands: Any) -> None:
    """Add `review`."""
    cmd = commands.add_parser(
        "review",
        help="what a change of dist/ does to traffic and security, and its risk",
        parents=[shared.envs(), shared.repo()],
    )
    cmd.add_argument(
        "--base", default=None, metavar="REF", help="default: merge base with the default branch"
    )
    cmd.add_argument("--head", default=None, metavar="REF", help="default: the working tree")
    cmd.add_argument("--format", choices=format_names.REVIEW, default="text")
    cmd.add_argument(
        "--fail-on",
        choices=RISKS,
        default=None,
        metavar="RISK",
        help="exit 1 when a change is this risky or more (critical|high|medium|low)",
    )
    cmd.set_defaults(handler=_review)


def _review(args: argparse.Namespace) -> int:
    from charts_py.review import formats, run
    from charts_py.review.model import Risk

    options = run.Options(base=args.base, head=args.head, envs=tuple(args.env), repo=args.repo)
    review = run.run(options)
    sys.stdout.write(formats.RENDERERS[args.format](review))
    if args.fail_on and review.risk is not None and review.risk >= Risk.named(args.fail_on):
        return EXIT_DIFFERENT
    return EXIT_OK
