"""dist/_bootstrap/control-plane: every cluster's Istio control plane as Argo CD Applications.

Rendered for all environments at once, like the bootstrap beside it: the Applications live
in the cluster Argo CD runs in, not in the clusters they install into.
"""

from __future__ import annotations

import cdk8s

from charts_py import contract, kinds
from charts_py.config.environment import Environment
from charts_py.constructs.control_plane import CHART_LABEL, PROJECT, ControlPlane, project
from charts_py.constructs.objects import emit


def build(envs: list[Environment]) -> cdk8s.App:
    """The control-plane AppProject and each cluster's Applications, for the environments
    whose control plane meshops runs (`mesh.managed`; none: an empty App)."""
    app = cdk8s.App()
    envs = [env for env in envs if env.mesh.managed]
    if not envs:
        return app
    labels = {contract.MANAGED_BY: contract.MANAGED_BY_VALUE, contract.CHART: CHART_LABEL}
    chart = cdk8s.Chart(app, CHART_LABEL, labels=labels)
    namespace = envs[0].spec.argocd.namespace
    emit(chart, kinds.APP_PROJECT, PROJECT, {"spec": project(envs)}, namespace=namespace)
    for env in envs:
        for cluster in env.spec.clusters:
            ControlPlane(chart, env=env, cluster=cluster)
    return app
