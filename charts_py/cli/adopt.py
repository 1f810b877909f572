"""`meshops import`: adopt a running mesh (a cluster, or a folder of manifests) as an
environment file, every object's verdict verified (docs/import.md).

Exit codes: 0 imported (the report says each object's verdict), 2 could not import (bad
input: an unreadable folder, a file that is not YAML, an unknown context, an unreachable
cluster, an environment file that exists without `--force`); nothing is written then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, get_args

from charts_py.cli import author, shared
from charts_py.cli.console import EXIT_OK
from charts_py.config.profiles import Profile
from charts_py.errors import ConfigError
from charts_py.speed import process

READERS = ("charts_py.kubeapi", "charts_py.config.environment")
"""What import imports that needs no node and is slow to import: the Kubernetes client it
reads a cluster with, the pydantic models of the file it writes."""
NOT_EXPRESSIBLE = ("extension", "out-of-band")
"""`--not-expressible`: what becomes of an object no typed field can say (importer.model)."""


def register(commands: Any) -> None:
    """Add `import`."""
    cmd = commands.add_parser(
        "import",
        help="write the environment file that reproduces a running mesh, every claim verified",
        parents=[shared.target(), shared.kube(), shared.environments()],
    )
    cmd.add_argument(
        "--from-dir",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        metavar="DIR",
        help="manifests: kubectl get -o yaml dumps, helm template output, plain files",
    )
    cmd.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="N",
        help="read this namespace (repeatable); files: where manifests without one go",
    )
    cmd.add_argument("--output", type=Path, default=None, metavar="PATH")
    cmd.add_argument("--report", type=Path, default=None, metavar="F", help="the JSON report")
    cmd.add_argument("--force", action="store_true", help="replace an existing environment file")
    cmd.add_argument("--profile", choices=get_args(Profile), default="none")
    cmd.add_argument(
        "--not-expressible",
        choices=NOT_EXPRESSIBLE,
        default="extension",
        help="an object no typed field says: into extensions: (default), or left out of band",
    )
    cmd.set_defaults(handler=_import)


def _import(args: argparse.Namespace) -> int:
    process.imported(author.NODE_BOUND, meanwhile=READERS)  # node starts meanwhile, as for synth
    from charts_py.importer import formats, run
    from charts_py.importer.model import Inexpressible

    if bool(args.from_dir) == bool(args.kubeconfig):
        raise ConfigError("meshops import", "", "give either --from-dir DIR... or --kubeconfig F")
    options = run.Options(
        env=args.env,
        cluster=args.cluster,
        from_dir=tuple(args.from_dir),
        kubeconfig=args.kubeconfig,
        context=args.context,
        namespaces=tuple(args.namespace),
        output=args.output,
        report=args.report,
        force=args.force,
        profile=args.profile,
        not_expressible=Inexpressible(args.not_expressible),
        environments=args.environments,
    )
    outcome = run.run(options)
    sys.stdout.write(formats.text(outcome.adopted.report, outcome.output))
    return EXIT_OK
