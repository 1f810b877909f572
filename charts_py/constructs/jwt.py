"""End-user JWT at the ingress: validate tokens, and deny protected paths without one.

Shared by both ingress APIs, which differ only in how the policies find the gateway's pods:
Istio's Gateway by `selector`, a Gateway API Gateway by `targetRefs`.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Ingress
from charts_py.constructs.objects import emit


def add_jwt(
    scope: Construct, env: Environment, ingress: Ingress, target: dict[str, Any], ports: list[int]
) -> None:
    """RequestAuthentication of `ingress.jwt`, and a DENY without a token on its `paths`.

    `target` attaches both policies to the gateway (`selector` or `targetRefs`); `ports` are
    the gateway's HTTP listeners."""
    root = naming.MESH_ROOT
    jwt = env.traced(ingress).jwt
    rules = [{"issuer": jwt.issuer.traced(), "jwksUri": jwt.jwks_uri.traced()}]
    emit(
        scope,
        kinds.REQUEST_AUTHENTICATION,
        "ingress-jwt",
        {"spec": {**target, "jwtRules": rules}},
        namespace=root,
    )
    if not jwt.paths.plain:
        return
    # RequestAuthentication only rejects invalid tokens; requests without one must be denied
    # explicitly on the paths that need an end user. Scoped to the HTTP listeners' ports
    # (both: the redirect must never serve these paths unauthenticated): a DENY rule made only
    # of HTTP attributes would deny every TCP connection to the gateway (IST0133).
    operation = {
        "ports": [str(n) for n in sorted(ports)],
        "paths": [path.traced() for path in jwt.paths],
    }
    deny = {"from": [{"source": {"notRequestPrincipals": ["*"]}}], "to": [{"operation": operation}]}
    emit(
        scope,
        kinds.AUTHORIZATION_POLICY,
        "ingress-require-jwt",
        {"spec": {**target, "action": "DENY", "rules": [deny]}},
        namespace=root,
    )
