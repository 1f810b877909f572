"""Istio's charts, rendered with meshops's values, are accepted by a real API server.

helm renders each control-plane Application of prod-east (the richest sidecar cluster: ingress,
egress and east-west gateways, PDBs) and of ambient-1 (istiod's ambient profile, istio-cni,
ztunnel) as Argo CD's repo server would; every object is then server-side applied as a dry run,
so the Deployments, DaemonSets, HPAs, PDBs, webhooks and CRDs the values produce pass
Kubernetes' own validation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from charts_py import contract, kubeapi
from charts_py.config import environment
from charts_py.render import synth
from tests.unit.test_istio_helm_template import template

REPO = Path(__file__).resolve().parents[2]


EXPECTED = {
    "prod-east": {  # istiod, ingress, egress, east-west
        "Deployment": 4,
        "PodDisruptionBudget": 4,
        "MutatingWebhookConfiguration": 1,
    },
    "ambient-1": {"Deployment": 1, "DaemonSet": 2, "MutatingWebhookConfiguration": 1},
}


@pytest.mark.parametrize(("env", "cluster"), [("prod", "prod-east"), ("ambient", "ambient-1")])
def test_rendered_charts_pass_the_api_server(
    kube: kubeapi.Cluster, tmp_path: Path, env: str, cluster: str
) -> None:
    loaded = environment.load_all(REPO / "environments")[env]
    apps = [
        m.obj
        for m in synth.manifests([loaded], [loaded])
        if m.chart == "control-plane"
        and m.obj["kind"] == "Application"
        and m.obj["spec"]["destination"]["name"] == cluster
    ]
    kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}},
        field_manager="meshops-tests",
    )
    checked: dict[str, int] = {}
    for app in apps:
        for obj in template(app, tmp_path):
            obj.setdefault("metadata", {}).setdefault("namespace", "istio-system")
            if obj["kind"] in CLUSTER_SCOPED:
                obj["metadata"].pop("namespace")
            result = kube.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
            assert result["metadata"]["name"] == obj["metadata"]["name"]
            checked[obj["kind"]] = checked.get(obj["kind"], 0) + 1
    assert checked["CustomResourceDefinition"] > 10
    assert {kind: checked.get(kind, 0) for kind in EXPECTED[cluster]} == EXPECTED[cluster]


CLUSTER_SCOPED = {
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}
"""helm template writes no namespace on these; the API server rejects one."""
