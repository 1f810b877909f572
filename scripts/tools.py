#!/usr/bin/env python3
"""The pinned Go-built tools (versions in scripts/tools.toml), found or built once, cached.

    scripts/tools.py path TOOL            # its path on stdout, building it first if needed
    scripts/tools.py path --cached TOOL   # its path if overridden or built, else exit 1
    scripts/tools.py build [TOOL ...]     # build the named tools (default: all) if needed

TOOL is one of: controlplane (a folder with kube-apiserver, etcd, kubectl), istioctl, argocd
(a folder: the binary, its component links, git-verify-wrapper.sh), helm, adapter-check.
Each has one override variable naming an existing one (KUBEBUILDER_ASSETS, ISTIOCTL,
MESHOPS_ARGOCD_BIN, MESHOPS_HELM, MESHOPS_ADAPTER_CHECK). Progress goes to stderr; stdout
holds only paths. charts_py/tools.py does the work, for the product and the tests alike.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from charts_py import tools


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/tools.py", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    where = verbs.add_parser("path", help="print a tool's path, building it first if needed")
    where.add_argument("tool", choices=sorted(tools.TOOLS))
    where.add_argument("--cached", action="store_true", help="never build: exit 1 if absent")
    build = verbs.add_parser("build", help="build tools that are not built yet")
    build.add_argument("tool", nargs="*", choices=sorted(tools.TOOLS), default=list(tools.TOOLS))
    args = parser.parse_args(argv)
    try:
        if args.verb == "build":
            for name in args.tool:
                tools.provide(name)
            return 0
        found = tools.path(args.tool) if args.cached else tools.provide(args.tool)
    except tools.ToolError as e:
        print(f"tools: {e}", file=sys.stderr)
        return 2
    if found is None:
        print(f"tools: {args.tool} not built: scripts/tools.py build {args.tool}", file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
