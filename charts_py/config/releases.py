"""The Istio releases meshops installs: one row per release, the only place a version is pinned.

Each row names the Helm chart version Argo CD installs from Istio's chart repository and the
commit of the `istio.io/istio` Go module whose `manifests/charts/*/values.yaml` the values
meshops sets are tested against (scripts/fetch_istio_charts.py). The module proxy refuses
Istio's release tags (they are not `v`-prefixed semver), so the source is a pseudo-version on
the release branch: `go list -m istio.io/istio@<pseudo-version>` resolves it, and the `h1:`
hash is that of sum.golang.org.

To run a new Istio release as a canary: add its row here, run the script (the tests then check
the values against both releases) and declare the revision in the environment file
(docs/control-plane.md).
"""

from __future__ import annotations

from dataclasses import dataclass

CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
"""Istio's official Helm repository (charts `base`, `istiod`, `gateway`)."""


@dataclass(frozen=True)
class Release:
    """One Istio release: its chart version and where its chart values are read from."""

    version: str
    module_version: str
    """Pseudo-version of `istio.io/istio` on the release branch (its VERSION file: the minor)."""
    h1: str

    @property
    def revision(self) -> str:
        """The conventional revision name: the minor with a dash (1.31.4 -> `1-31`)."""
        major, minor, _ = self.version.split(".", 2)
        return f"{major}-{minor}"


RELEASES: dict[str, Release] = {
    release.version: release
    for release in (
        # release-1.31 at eed52ebb66ad (2026-08-27; its VERSION file says 1.31). Chart values
        # keys do not change within a minor; the patch is the chart version Argo CD installs.
        Release(
            version="1.31.4",
            module_version="v0.0.0-20260827124520-eed52ebb66ad",
            h1="h1:ui9TJjRMAV/hb5ehQaZDq7IUGxuQP6dra9lapT/VjHI=",
        ),
    )
}

CURRENT = RELEASES["1.31.4"]
"""The release an environment runs when it declares no revisions."""
