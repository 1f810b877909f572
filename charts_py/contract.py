"""Facts of the public contract (DESIGN.md) that generation and drift both rely on."""

from __future__ import annotations

from typing import Any

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "meshops"
ENVIRONMENT = "meshops.dev/environment"
CLUSTER = "meshops.dev/cluster"
CHART = "meshops.dev/chart"

SUPPRESS = "meshops.dev/suppress"
"""An object's opt-out of validate rules, `"<rule-id>[,<rule-id>]: <reason>"`
(validate/suppress.py); synth writes it for the environment's waivers (config/waivers.py)."""

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
"""The annotation that orders a sync inside one Argo CD Application (kinds.py holds the waves)."""

BOOTSTRAP_DIR = "_bootstrap"

SERVICES_CHART = "services"
"""The chart (and dist folder) of each service's own objects; what is not one service's
(namespace-wide policies, gateway and egress routes) is in the other charts."""
"""dist/_bootstrap/argocd holds the Argo CD objects; it is no (env, cluster) directory."""

FIELD_MANAGER = "argocd-controller"
"""The field manager Argo CD's server-side apply uses; `meshops apply` uses it too."""


SNAPSHOT_BRANCH = "meshops/snapshots"
"""Where drift snapshots and backups are committed (overridable on the command line)."""


def is_ours(obj: dict[str, Any], environment: str, cluster: str) -> bool:
    """Labelled by meshops for (environment, cluster): drift calls such an object extra when
    git lacks it, and backups keep it."""
    found = (obj.get("metadata") or {}).get("labels") or {}
    return (
        found.get(MANAGED_BY) == MANAGED_BY_VALUE
        and found.get(ENVIRONMENT) == environment
        and found.get(CLUSTER) == cluster
    )


def labels(environment: str, cluster: str, chart: str) -> dict[str, str]:
    """The labels every generated object carries; drift finds extra objects by them."""
    return {
        MANAGED_BY: MANAGED_BY_VALUE,
        ENVIRONMENT: environment,
        CLUSTER: cluster,
        CHART: chart,
    }


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""The drift digest's day (`drift.digest.weekday`, `meshops drift --digest-weekday`), in
Python's `date.weekday()` order."""
