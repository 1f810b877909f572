"""`meshops propose`: from a drift run to the edit that adopts it, or the way back to git."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from charts_py import format_names
from charts_py.cli import shared
from charts_py.cli.console import EXIT_OK, err, out
from charts_py.errors import ConfigError

if TYPE_CHECKING:
    from charts_py.propose.write import Written


def register(commands: Any) -> None:
    """Add `propose`."""
    cmd = commands.add_parser(
        "propose",
        help="adopt a drift run's live values in the environment file, or revert them",
        parents=[
            shared.target(cluster_required=True),
            shared.repo(),
            shared.dist(),
            shared.kube(),
        ],
    )
    cmd.add_argument(
        "--from-report",
        type=Path,
        default=None,
        metavar="F",
        help="a `meshops drift --format json` report of HEAD (default: run drift now)",
    )
    cmd.add_argument("--adopt", action="store_true", help="edit the environment file to live")
    cmd.add_argument("--revert", action="store_true", help="say what restores git, and how")
    cmd.add_argument(
        "--branch", default=None, metavar="B", help="adopt: commit to new branch B, not the tree"
    )
    cmd.add_argument("--push", default=None, metavar="REMOTE", help="push the --branch")
    cmd.add_argument("--live-dir", type=Path, default=None, metavar="D")
    cmd.add_argument("--format", choices=format_names.PROPOSE, default="text")
    cmd.set_defaults(handler=_propose)


def _mode(args: argparse.Namespace) -> str:
    """One of --adopt and --revert; --branch and --push only where they mean something."""
    if args.adopt == args.revert:
        raise ConfigError("propose", "--adopt/--revert", "give exactly one of them")
    if args.push and not args.branch:
        raise ConfigError("propose", "--push", "pushes the --branch: give --branch too")
    if args.branch and args.revert:
        raise ConfigError("propose", "--branch", "only --adopt writes a branch")
    return "adopt" if args.adopt else "revert"


def _propose(args: argparse.Namespace) -> int:
    from charts_py.propose import output, proposal, write

    options = proposal.Options(
        env=args.env,
        cluster=args.cluster,
        mode=proposal.Mode(_mode(args)),
        from_report=args.from_report,
        repo=args.repo,
        dist=str(args.dist),
        kubeconfig=args.kubeconfig,
        context=args.context,
        live_dir=args.live_dir,
    )
    source = "the report" if args.from_report else "the cluster"
    with err.status(f"propose {args.env}/{args.cluster}: reading git and {source}..."):
        inputs = proposal.read(options)
        if args.branch:
            write.check_branch(inputs, args.branch)
    with err.status("planning and verifying (re-rendering the environment)..."):
        planned = proposal.propose(options, inputs)
        written = None
        if planned.mode == proposal.Mode.ADOPT and planned.offered:
            if args.branch:
                written = write.to_branch(planned, inputs, str(args.dist), args.branch, args.push)
            else:
                written = write.to_worktree(planned, inputs, str(args.dist))
    if args.format == "json":
        sys.stdout.write(output.json_text(planned, _written_json(written)))
    else:
        output.text(planned, out, _written_text(args, written))
    return EXIT_OK


def _written_json(written: Written | None) -> dict[str, Any] | None:
    if written is None:
        return None
    return {"branch": written.branch, "commit": written.commit, "files": written.files}


def _written_text(args: argparse.Namespace, written: Written | None) -> str | None:
    if written is None:
        return None
    prefix = f"{args.dist}/{args.env}/"
    others = sorted(
        {f.removeprefix(prefix).split("/")[0] for f in written.files if f.startswith(prefix)}
        - {args.cluster, "README.md"}
    )
    also = sorted({o.removesuffix(".provenance.json") for o in others} - {args.cluster})
    shared = f"; it also changes {', '.join(also)} (same environment file)" if also else ""
    if written.branch:
        pushed = f", pushed to {args.push}" if args.push else ""
        return (
            f"committed {(written.commit or '')[:12]} on new branch {written.branch}{pushed} "
            f"({len(written.files)} files; the working tree is untouched){shared}"
        )
    return f"written to the working tree: {', '.join(written.files)}{shared}"
