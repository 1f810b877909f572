"""Who may call a service (AuthorizationPolicy) and what it may reach (Sidecar scoping)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import waivers
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.constructs import ambient, baseline, mesh_objects
from charts_py.constructs.objects import emit


def add_access(scope: Construct, env: Environment, service: Service) -> None:
    """Positive ALLOW rules for known callers; egress scoped to declared dependencies."""
    ns = env.namespace_of(service)
    callers = [
        naming.principal(naming.account(c), env.namespace_of(c)) for c in env.callers_of(service)
    ]
    if service.ingress:
        callers.append(naming.ingress_principal(env))
    if env.load_tested(service):
        callers.append(naming.principal(naming.LOAD_TEST_ACCOUNT, env.spec.namespace))
    home = env.home(service)
    if home.switched("authorization", env.policy.authorization) and callers:
        if env.ambient(home):
            ambient.add_access(scope, env, service, callers)
        else:
            rule = {
                "from": [{"source": {"principals": callers}}],
                "to": [{"operation": {"ports": ambient.access_ports(service)}}],
            }
            selector = {"matchLabels": naming.pods(service)}
            policy = {"selector": selector, "action": "ALLOW", "rules": [rule]}
            name = naming.kept(service, "authorization_policy")
            emit(scope, kinds.AUTHORIZATION_POLICY, name, {"spec": policy}, namespace=ns)
    if home.switched("sidecar", env.policy.sidecar) and not env.ambient(home):
        sidecar = naming.kept(service, "sidecar")
        waived = waivers.suppression(env, ("egress-restricted",), ns)
        spec = {"spec": _sidecar(env, service)}
        emit(scope, kinds.SIDECAR, sidecar, spec, namespace=ns, annotations=waived)
    ambient_service = service if env.ambient(home) else None
    pods = naming.pods(service)
    mesh_objects.add_named(scope, env, env.traced(service), pods, ns, ambient_service)


def _sidecar(env: Environment, service: Service) -> dict[str, Any]:
    return {
        "workloadSelector": {"labels": naming.pods(service)},
        "egress": [{"hosts": naming.egress_hosts(env, service)}],
        "outboundTrafficPolicy": {"mode": baseline.outbound_mode(env)},
    }
