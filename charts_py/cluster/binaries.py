"""Find kube-apiserver and etcd: `KUBEBUILDER_ASSETS` (the envtest convention) or a build.

The build is `scripts/controlplane/build.sh`: pinned Go modules, compiled once into a cache
folder keyed by version (minutes the first time, milliseconds after).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from charts_py.errors import ClusterError

REQUIRED = ("etcd", "kube-apiserver")
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "controlplane" / "build.sh"


def locate() -> Path:
    """The folder holding `etcd` and `kube-apiserver` (building them if needed)."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        folder = Path(assets)
        missing = [b for b in REQUIRED if not os.access(folder / b, os.X_OK)]
        if missing:
            raise ClusterError(f"KUBEBUILDER_ASSETS={assets}: missing {', '.join(missing)}")
        return folder
    if not BUILD_SCRIPT.is_file():
        raise ClusterError(
            "no control-plane binaries: set KUBEBUILDER_ASSETS to a folder with etcd and "
            "kube-apiserver, or run from a meshops checkout (scripts/controlplane/build.sh)"
        )
    return _built(BUILD_SCRIPT)


ARGOCD_BUILD_SCRIPT = BUILD_SCRIPT.parents[1] / "argocd" / "build.sh"


def locate_argocd() -> Path:
    """The folder holding `argocd`, its component links and git-verify-wrapper.sh:
    `$MESHOPS_ARGOCD_BIN` (an existing binary) or the cached build (scripts/argocd/build.sh,
    which prints its progress on stderr: the first build takes half an hour on two cores)."""
    if not ARGOCD_BUILD_SCRIPT.is_file():
        raise ClusterError(
            "no Argo CD: run from a meshops checkout (scripts/argocd/build.sh builds it) "
            "or set MESHOPS_ARGOCD_BIN to an argocd binary"
        )
    return _built(ARGOCD_BUILD_SCRIPT)


def _built(script: Path) -> Path:
    """Run a cached build script and return the folder it prints. Progress of a first build
    goes straight to the user's stderr; only the path is captured."""
    done = subprocess.run(["bash", str(script)], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise ClusterError(f"{script} failed with exit code {done.returncode}")
    return Path(done.stdout.strip())
