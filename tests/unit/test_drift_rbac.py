"""The nightly job's RBAC follows what drift reads: Roles in exactly the namespaces each
cluster's dist/ uses, a ClusterRole with cluster-scoped kinds only, never Secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from charts_py import kinds, yamlio
from charts_py.config import environment
from charts_py.constructs import drift_job

ROOT = Path(__file__).resolve().parents[2]
ENVS = environment.load_all(ROOT / "environments")
CLUSTER_SCOPED = {k.resource for k in kinds.MESH_KINDS if not k.namespaced}


@pytest.mark.parametrize(
    "folder", sorted(p for p in (ROOT / "dist").glob("[!_]*/*") if p.is_dir()), ids=lambda p: p.name
)
def test_roles_cover_every_namespace_dist_uses(folder: Path) -> None:
    objects = [yamlio.load(p.read_text()) for p in folder.rglob("*.yaml")]
    used = {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")}
    roles = {o["metadata"]["namespace"] for o in objects if o["kind"] == "Role"}
    bindings = {o["metadata"]["namespace"] for o in objects if o["kind"] == "RoleBinding"}
    assert used == roles == bindings == set(drift_job.managed_namespaces(ENVS[folder.parent.name]))
    (cluster_role,) = [o for o in objects if o["kind"] == "ClusterRole"]
    granted = {r for rule in cluster_role["rules"] for r in rule["resources"]}
    assert granted <= CLUSTER_SCOPED and "namespaces" in granted


def test_rules_are_read_only_and_never_secrets() -> None:
    for rule in drift_job.namespaced_rules() + drift_job.cluster_rules():
        assert rule["verbs"] == ["get", "list", "watch"]
        assert "secrets" not in rule["resources"]
    assert not any(set(r["resources"]) & CLUSTER_SCOPED for r in drift_job.namespaced_rules())
