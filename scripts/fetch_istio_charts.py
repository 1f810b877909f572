#!/usr/bin/env python3
"""Fetch the values.yaml of Istio's Helm charts for every release meshops pins, into a cache.

Why: the Helm values meshops renders (charts_py/constructs/istio_values.py) are only useful if
each key exists in the chart Argo CD installs; a misspelt key is ignored by Helm without a word.
tests/unit/test_istio_values.py checks every key against the files this script caches.

Source: the `istio.io/istio` Go module at the pseudo-version pinned per release in
charts_py/config/releases.py (`go mod download`, verified against sum.golang.org and the pinned
`h1:`), its `manifests/charts/{base,istio-control/istio-discovery,gateway,istio-cni,ztunnel}`
(the last two: ambient's node agents); and the
MeshConfig API (`mesh/v1alpha1/config.proto`) of the `istio.io/api` version that module
requires, since `meshConfig` values are passed to istiod as a MeshConfig.

Cache: `$MESHOPS_ISTIO_CHARTS` if set, else `~/.cache/meshops/istio-charts`, one folder per
release; a release already cached is not fetched again.

Usage: python scripts/fetch_istio_charts.py [--print-dir]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import fetch_crds  # noqa: E402  (beside this script: the one `go mod download` helper)

from charts_py.config import releases  # noqa: E402  (the pins live in the package)

CHART_DIRS = {
    "base": "manifests/charts/base",
    "istiod": "manifests/charts/istio-control/istio-discovery",
    "gateway": "manifests/charts/gateway",
    "cni": "manifests/charts/istio-cni",
    "ztunnel": "manifests/charts/ztunnel",
}
"""Each chart by the name Istio's chart repository gives it (its Chart.yaml `name`)."""
MESH_CONFIG_PROTO = "mesh/v1alpha1/config.proto"
DONE = "charts.json"
"""Written last: a folder without it, or whose charts are not CHART_DIRS, is fetched again."""


FetchError = fetch_crds.FetchError
"""A pin or a download did not behave as expected."""


def cache_root() -> Path:
    """Where releases are cached (see the module docstring)."""
    named = os.environ.get("MESHOPS_ISTIO_CHARTS")
    return Path(named) if named else Path.home() / ".cache" / "meshops" / "istio-charts"


def release_dir(release: releases.Release) -> Path:
    """The cache folder of one release: `<chart>/` (the chart), `meshconfig.proto`."""
    return cache_root() / release.version


def _download(ref: str, workdir: Path) -> dict[str, Any]:
    # The local toolchain: the charts are data, no module here asks for a newer Go.
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on", "GOTOOLCHAIN": "local"}
    return fetch_crds.go_mod_download(ref, workdir, env)


def fetch(release: releases.Release) -> Path:
    """Cache one release's chart values and MeshConfig API; return its folder."""
    target = release_dir(release)
    if _complete(target):
        return target
    with tempfile.TemporaryDirectory(prefix="istio-charts-") as tmp:
        ref = f"istio.io/istio@{release.module_version}"
        print(f"fetch_istio_charts: go mod download {ref}", file=sys.stderr)
        info = _download(ref, Path(tmp))
        if info.get("Sum") != release.h1:
            raise FetchError(f"{ref}: module hash {info.get('Sum')} != pinned {release.h1}")
        istio = Path(info["Dir"])
        api_version = _required(istio / "go.mod", "istio.io/api")
        api_ref = f"istio.io/api@{api_version}"
        print(f"fetch_istio_charts: go mod download {api_ref}", file=sys.stderr)
        api = Path(_download(api_ref, Path(tmp))["Dir"])
        staging = Path(tempfile.mkdtemp(prefix=f".{release.version}-", dir=_parent(target)))
        for chart, rel in CHART_DIRS.items():
            # The module cache is read-only; plain copies stay removable.
            shutil.copytree(istio / rel, staging / chart, copy_function=shutil.copyfile)
        shutil.copyfile(api / MESH_CONFIG_PROTO, staging / "meshconfig.proto")
        source = {
            "istio": ref,
            "api": api_ref,
            "charts": CHART_DIRS,
            "meshConfig": MESH_CONFIG_PROTO,
        }
        (staging / DONE).write_text(json.dumps(source, indent=2, sort_keys=True) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # complete or absent, never half-written
    return target


def _complete(target: Path) -> bool:
    """Whether `target` holds every chart of CHART_DIRS (a cache of fewer charts, from before
    a chart was added here, is fetched again)."""
    done = target / DONE
    return done.is_file() and json.loads(done.read_text()).get("charts") == CHART_DIRS


def _parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def _required(go_mod: Path, module: str) -> str:
    match = re.search(rf"^\s*{re.escape(module)} (v\S+)", go_mod.read_text(), re.MULTILINE)
    if not match:
        raise FetchError(f"{go_mod}: no requirement on {module}")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    """Fetch every pinned release; exit 2 with one line when a download fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--print-dir", action="store_true", help="print the cache folder")
    args = parser.parse_args(argv)
    try:
        for release in releases.RELEASES.values():
            print(f"istio {release.version}: {fetch(release)}", file=sys.stderr)
    except FetchError as err:
        print(f"fetch_istio_charts: {err}", file=sys.stderr)
        return 2
    if args.print_dir:
        print(cache_root())
    return 0


if __name__ == "__main__":
    sys.exit(main())
