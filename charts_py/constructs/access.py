"""Who may call a service (AuthorizationPolicy) and what it may reach (Sidecar scoping)."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.constructs import baseline
from charts_py.constructs.objects import emit


def add_access(scope: Construct, env: Environment, service: Service) -> None:
    """Positive ALLOW rules for known callers; egress scoped to declared dependencies."""
    ns = env.namespace_of(service)
    callers = [
        naming.principal(naming.account(c), env.namespace_of(c)) for c in env.callers_of(service)
    ]
    if service.ingress:
        callers.append(naming.INGRESS_GATEWAY_PRINCIPAL)
    if env.load_tested(service):
        callers.append(naming.principal(naming.LOAD_TEST_ACCOUNT, env.spec.namespace))
    if env.policy.authorization and callers:
        rule = {
            "from": [{"source": {"principals": callers}}],
            "to": [{"operation": {"ports": [str(service.port)]}}],
        }
        selector = {"matchLabels": naming.pods(service)}
        policy = {"selector": selector, "action": "ALLOW", "rules": [rule]}
        emit(scope, kinds.AUTHORIZATION_POLICY, service.name, {"spec": policy}, namespace=ns)
    emit(scope, kinds.SIDECAR, service.name, {"spec": _sidecar(env, service)}, namespace=ns)


def _sidecar(env: Environment, service: Service) -> dict[str, Any]:
    return {
        "workloadSelector": {"labels": naming.pods(service)},
        "egress": [{"hosts": naming.egress_hosts(env, service)}],
        "outboundTrafficPolicy": {"mode": baseline.outbound_mode(env)},
    }
