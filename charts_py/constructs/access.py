"""Who may call a service (AuthorizationPolicy) and what it may reach (Sidecar scoping)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming, provenance
from charts_py.config import waivers
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.constructs import ambient, baseline, mesh_objects
from charts_py.constructs.objects import emit


def add_access(scope: Construct, env: Environment, service: Service) -> None:
    """Positive ALLOW rules for known callers; egress scoped to declared dependencies."""
    ns = env.namespace_of(service)
    callers = [_caller(env, caller, service) for caller in env.callers_of(service)]
    if service.ingress:
        ingress = env.traced(service).ingress
        callers.append(ingress.transformed(naming.ingress_principal(env)))
    if env.load_tested(service):
        test = next(t for t in env.spec.load_tests if t.target == service.name)
        principal = naming.principal(naming.LOAD_TEST_ACCOUNT, env.spec.namespace)
        callers.append(env.traced(test).target.transformed(principal))
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


def _caller(env: Environment, caller: Service, service: Service) -> provenance.Traced:
    """The caller's principal, traced to the entry of its `calls` that names `service`."""
    entry = next(i for i, ref in enumerate(caller.calls) if env.callee(caller, ref) is service)
    principal = naming.principal(naming.account(caller), env.namespace_of(caller))
    return env.traced(caller).calls[entry].transformed(principal)


def _sidecar(env: Environment, service: Service) -> dict[str, Any]:
    return {
        "workloadSelector": {"labels": naming.pods(service)},
        "egress": [{"hosts": naming.egress_hosts(env, service)}],
        "outboundTrafficPolicy": {"mode": baseline.outbound_mode(env)},
    }
