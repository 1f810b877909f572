"""Istio's charts, rendered with meshops's values, are accepted by a real API server.

helm renders each control-plane Application of prod-east (the richest cluster: ingress,
egress and east-west gateways, PDBs) as Argo CD's repo server would; every object is then
server-side applied as a dry run, so the Deployments, HPAs, PDBs, webhooks and CRDs the values
produce pass Kubernetes' own validation.
"""

from __future__ import annotations

from pathlib import Path

from charts_py import contract, kubeapi
from charts_py.config import environment
from charts_py.render import synth
from tests.unit.test_istio_helm_template import template

REPO = Path(__file__).resolve().parents[2]


def test_rendered_charts_pass_the_api_server(kube: kubeapi.Cluster, tmp_path: Path) -> None:
    prod = environment.load_all(REPO / "environments")["prod"]
    apps = [
        m.obj
        for m in synth.manifests([prod], [prod])
        if m.chart == "control-plane"
        and m.obj["kind"] == "Application"
        and m.obj["spec"]["destination"]["name"] == "prod-east"
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
    assert checked["Deployment"] == 4  # istiod, ingress, egress, east-west
    assert checked["PodDisruptionBudget"] == 4
    assert checked["MutatingWebhookConfiguration"] == 1


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
