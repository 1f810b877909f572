"""The mesh service construct: everything one entry of `services:` puts into a cluster."""

from __future__ import annotations

from constructs import Construct

from charts_py.config import ambient as config_ambient
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.constructs import ambient
from charts_py.constructs.access import add_access
from charts_py.constructs.traffic import add_traffic
from charts_py.constructs.workload import add_workload


class MeshService(Construct):
    """Workload (pods, Service, scaling), traffic (DestinationRule, VirtualService) and access
    (AuthorizationPolicy, Sidecar) of one service.

    The three parts are plain functions emitting into this one construct: each construct
    instance is a round trip into jsii, so one per service keeps synth fast.
    """

    def __init__(self, scope: Construct, *, env: Environment, service: Service) -> None:
        ns = env.namespace_of(service)
        # A service of another namespace may share a name with one of the platform's.
        super().__init__(
            scope, service.name if ns == env.spec.namespace else f"{ns}.{service.name}"
        )
        add_workload(self, env, service)
        add_traffic(self, env, service)
        if config_ambient.behind_waypoint(env, service):
            ambient.add_routes(self, env, service)
        add_access(self, env, service)
