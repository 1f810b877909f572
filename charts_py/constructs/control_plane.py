"""The Istio control plane of one cluster as Argo CD Applications of Istio's Helm charts.

They live in Argo CD's namespace in the cluster Argo CD runs in (dist/_bootstrap/), with the
target cluster as destination: dist/<env>/<cluster>/ is synced *into* that cluster, where no
Argo CD may run (hub and spoke). Sync waves order them when an app of apps syncs
dist/_bootstrap (CRDs, then istiod and, in a cluster that runs ambient, istio-cni, then
ztunnel, then gateways, then the ApplicationSet of mesh config); retries with backoff make them
converge when they are applied at once instead.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import contract, kinds, naming
from charts_py.config import installation, releases
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster
from charts_py.constructs import istio_values
from charts_py.constructs.objects import emit
from charts_py.contract import SYNC_WAVE

PROJECT = "meshops-control-plane"
CHART_LABEL = "control-plane"
WAVES = {"base": "-30", "istiod": "-20", "cni": "-20", "ztunnel": "-15", "gateway": "-10"}
"""Before the ApplicationSet (wave 0) whose Applications sync the mesh configuration. istio-cni
needs no istiod (it redirects to the node's ztunnel); ztunnel follows istiod, whose CA signs its
certificates; both are on the nodes before an ambient namespace's pods start."""
FINALIZER = "resources-finalizer.argocd.argoproj.io"
"""Deleting the Application deletes what it installed: how a removed revision goes away."""
RETRY = {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}

# istiod rewrites these after install (it owns the CA bundle and flips the validation
# webhook to Fail once it serves): Istio's documented Argo CD ignoreDifferences.
WEBHOOK_FIELDS = [
    {
        "group": "admissionregistration.k8s.io",
        "kind": kind,
        "jqPathExpressions": [
            ".webhooks[]?.clientConfig.caBundle",
            ".webhooks[]?.failurePolicy",
        ],
    }
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
]

WEBHOOK_CHARTS = frozenset({"base", "istiod"})
"""The charts that render webhooks (istiod rewrites them: WEBHOOK_FIELDS)."""

CLUSTER_KINDS = (
    ("", "Namespace"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
)
NAMESPACED_KINDS = (
    ("", "ServiceAccount"),
    ("", "ConfigMap"),
    ("", "Service"),
    ("apps", "Deployment"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("networking.k8s.io", "NetworkPolicy"),
)
"""What the base, istiod and gateway charts create (their templates/), and nothing else."""
AMBIENT_KINDS = (("apps", "DaemonSet"),)
"""What the cni and ztunnel charts create beyond those, with meshops's values (their
ResourceQuota, NetworkPolicy and NetworkAttachmentDefinition are off): only where a cluster runs
ambient (tests/unit/test_istio_helm_template.py renders them)."""


class ControlPlane(Construct):
    """base, then the cluster's installation (config/installation.py): an istiod per revision,
    ambient's node agents where a namespace runs ambient, and the gateways."""

    def __init__(self, scope: Construct, *, env: Environment, cluster: Cluster) -> None:
        super().__init__(scope, cluster.name)
        self._env, self._cluster = env, cluster
        newest = max(
            (releases.RELEASES[r.version] for r in env.mesh.revisions),
            key=lambda r: tuple(int(p) for p in r.version.split(".")),
        )
        # CRDs are backward compatible, so base comes from the newest declared release.
        self._app("istio-base", "base", newest.version, istio_values.base(env), finalizer=False)
        installed = installation.of_cluster(env, cluster)
        for istiod in installed.istiods:
            values = istio_values.istiod(env, cluster, istiod, installed)
            self._app(f"istiod-{istiod.revision}", "istiod", istiod.version, values)
        if installed.ambient:
            # The node agents come from the release of the revision namespaces use: the istiod
            # ztunnel connects to.
            cni, ztunnel = installation.ISTIO_CNI, installation.ZTUNNEL
            agents = _version_of(env, env.mesh.default_revision)
            self._app(cni.release, cni.chart, agents, istio_values.cni())
            self._app(ztunnel.release, ztunnel.chart, agents, istio_values.ztunnel(env, cluster))
        version = _version_of(env, env.mesh.gateway_revision)
        for gateway in installed.gateways:
            self._app(gateway.release, "gateway", version, istio_values.gateway(env, gateway))

    def _app(
        self, release: str, chart: str, version: str, values: Any, *, finalizer: bool = True
    ) -> None:
        env, cluster = self._env, self._cluster
        sync: dict[str, Any] = {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["ServerSideApply=true", "RespectIgnoreDifferences=true"],
            "retry": RETRY,
        }
        if chart == "base":
            # The namespace is also in dist/<env>/<cluster>/namespaces (with its labels);
            # creating it here lets the CRDs land before that Application's first sync.
            sync["syncOptions"] = ["CreateNamespace=true", *sync["syncOptions"]]
        spec: dict[str, Any] = {
            "project": PROJECT,
            "source": {
                "repoURL": releases.CHART_REPOSITORY,
                "chart": chart,
                "targetRevision": version,
                "helm": {"releaseName": release, "valuesObject": values},
            },
            "destination": {"name": cluster.name, "namespace": naming.MESH_ROOT},
            "syncPolicy": sync,
        }
        if chart in WEBHOOK_CHARTS:
            spec["ignoreDifferences"] = WEBHOOK_FIELDS
        emit(
            self,
            kinds.APPLICATION,
            f"{cluster.name}-{release}",
            {"spec": spec},
            namespace=env.spec.argocd.namespace,
            labels={contract.ENVIRONMENT: env.name, contract.CLUSTER: cluster.name},
            annotations={SYNC_WAVE: WAVES[chart]},
            finalizers=[FINALIZER] if finalizer else (),
        )


def project(envs: list[Environment]) -> dict[str, Any]:
    """The AppProject of the control-plane Applications: Istio's chart repository, the mesh
    root namespace of every cluster, and exactly the kinds Istio's charts create (ambient's
    DaemonSets only where a cluster runs ambient)."""
    destinations = sorted(
        ({"name": c.name, "namespace": naming.MESH_ROOT} for e in envs for c in e.spec.clusters),
        key=lambda d: d["name"],
    )
    ambient = any(
        installed.ambient for env in envs for installed in installation.of_environment(env)
    )
    charts = "base, istiod, gateway, cni, ztunnel" if ambient else "base, istiod, gateway"
    namespaced = (*NAMESPACED_KINDS, *(AMBIENT_KINDS if ambient else ()))
    return {
        "description": f"Istio control plane (Helm charts {charts}) per cluster",
        "sourceRepos": [releases.CHART_REPOSITORY],
        "destinations": destinations,
        "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in CLUSTER_KINDS],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in namespaced],
    }


def _version_of(env: Environment, revision: str) -> str:
    return next(r.version for r in env.mesh.revisions if r.name == revision)
