"""The local control plane's and Argo CD's binaries: two of the pinned tools (charts_py/tools.py).

`KUBEBUILDER_ASSETS` (envtest's convention: a folder with etcd and kube-apiserver) and
`MESHOPS_ARGOCD_BIN` (an argocd binary) name existing ones; else each is built once from its
pinned Go modules into a cache (minutes the first time, progress on stderr; milliseconds after).
"""

from __future__ import annotations

from pathlib import Path

from charts_py import tools
from charts_py.errors import ClusterError


def locate() -> Path:
    """The folder holding `etcd`, `kube-apiserver` (and, when built here, `kubectl`)."""
    return _provided("controlplane")


def locate_argocd() -> Path:
    """The folder holding `argocd`, its component links and git-verify-wrapper.sh."""
    return _provided("argocd")


def _provided(name: str) -> Path:
    try:
        return tools.provide(name)
    except tools.ToolError as e:
        raise ClusterError(str(e)) from e
