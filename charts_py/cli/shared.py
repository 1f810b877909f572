"""The options several commands share, each declared once as an argparse parent parser.

A command lists the parents it takes (`add_parser(..., parents=[shared.target(), ...])`), so
`--env`, `--cluster`, `--repo`, `--kubeconfig`, `--context`, `--dist` and `--environments`
mean and default the same wherever they appear. Each function returns a fresh parent: argparse
copies a parent's actions into the command, so a parent is never shared by two parsers.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def target(*, cluster_required: bool = False) -> argparse.ArgumentParser:
    """`--env E` (required) and `--cluster C` (optional where an environment's only cluster
    is the obvious one)."""
    parent = _parent()
    parent.add_argument("--env", required=True, metavar="E")
    parent.add_argument("--cluster", required=cluster_required, default=None, metavar="C")
    return parent


def env(*, required: bool = True, meaning: str | None = None) -> argparse.ArgumentParser:
    """`--env E` alone, for commands without a cluster (`meaning`: its help, where it differs)."""
    parent = _parent()
    parent.add_argument("--env", required=required, default=None, metavar="E", help=meaning)
    return parent


def envs() -> argparse.ArgumentParser:
    """`--env E`, repeatable: commands that work on several environments at once."""
    parent = _parent()
    parent.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="E",
        help="only this environment (repeatable); default: all",
    )
    return parent


def repo() -> argparse.ArgumentParser:
    """`--repo P`: the git repository commands that read git (or commit to it) use."""
    parent = _parent()
    parent.add_argument(
        "--repo",
        type=Path,
        default=None,
        metavar="P",
        help="git repository (default: the one around the current directory)",
    )
    return parent


def kube() -> argparse.ArgumentParser:
    """`--kubeconfig F` and `--context X`: how to reach the cluster (kubectl's defaults)."""
    parent = _parent()
    parent.add_argument("--kubeconfig", default=None, metavar="F")
    parent.add_argument("--context", default=None, metavar="X")
    return parent


def dist() -> argparse.ArgumentParser:
    """`--dist DIR`: where the generated manifests are (in the repo, for commands reading git)."""
    parent = _parent()
    parent.add_argument(
        "--dist",
        type=Path,
        default=Path("dist"),
        metavar="DIR",
        help="dist folder (commands that read git: its path in the repo)",
    )
    return parent


def environments() -> argparse.ArgumentParser:
    """`--environments DIR`: where the environment files are."""
    parent = _parent()
    parent.add_argument("--environments", type=Path, default=Path("environments"), metavar="DIR")
    return parent
