"""The charts of one (environment, cluster): each one concern, each a dist/ sub-folder.

Every primary cluster gets the same policy objects: nothing below depends on the cluster
except the network label of the mesh root namespace.
"""

from __future__ import annotations

import cdk8s

from charts_py import contract
from charts_py.config import installation
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster
from charts_py.constructs import (
    baseline,
    external,
    gateway_api_ingress,
    gateways,
    mesh_objects,
    monitoring,
)
from charts_py.constructs.drift_job import DriftJob
from charts_py.constructs.load_test import LoadTests
from charts_py.constructs.metrics_adapter import MetricsAdapterRules
from charts_py.constructs.service import MeshService


def build(env: Environment, cluster: Cluster) -> cdk8s.App:
    """One cdk8s App holding every chart of `cluster` in `env`."""
    app = cdk8s.App()

    def chart(name: str) -> cdk8s.Chart:
        return cdk8s.Chart(app, name, labels=contract.labels(env.name, cluster.name, name))

    baseline.Namespaces(chart("namespaces"), env=env, cluster=cluster)
    baseline.MeshBaseline(chart("mesh-baseline"), env=env)
    _gateways(chart("gateways"), env)
    services = chart(contract.SERVICES_CHART)
    for svc in env.services:
        MeshService(services, env=env, service=svc)
    if mesh_objects.has_objects(env):
        mesh_objects.NamespaceObjects(chart("namespace-objects"), env=env)
    if env.spec.external_services:
        externals = chart("external-services")
        for ext in env.spec.external_services:
            external.External(externals, env=env, external=ext)
    metrics = chart("monitoring")
    monitoring.Monitoring(metrics, env=env, cluster=cluster)
    MetricsAdapterRules(metrics, env=env)
    DriftJob(chart("drift-job"), env=env, cluster=cluster)
    if env.spec.load_tests:
        LoadTests(chart("load-tests"), env=env)
    return app


def _gateways(scope: cdk8s.Chart, env: Environment) -> None:
    ingress = env.spec.ingress
    if ingress and ingress.api == "gateway-api":
        gateway_api_ingress.GatewayApiIngress(scope, env=env, ingress=ingress)
    elif ingress:
        gateways.IngressGateway(scope, env=env, ingress=ingress)
    if env.multi_cluster:
        gateways.EastWestGateway(scope)
    sensitive = [
        str(e.host) for e in env.spec.external_services if installation.via_egress_gateway(env, e)
    ]
    if sensitive:
        gateways.EgressGateway(scope, hosts=sensitive)
