"""The ingress through Kubernetes Gateway API (`ingress.api: gateway-api`).

A Gateway of class `istio` in the mesh root: istiod deploys its pods (Deployment and
ServiceAccount `ingress-istio`) and programs them from the Gateway and the HTTPRoutes bound to
it (https://istio.io/latest/docs/tasks/traffic-management/ingress/gateway-api/). Per host an
HTTPS listener with the same Secret `tlsSecret` names for Istio's Gateway (`certificateRefs`,
in the Gateway's namespace, as Istio's `credentialName` is in the gateway's) and an HTTP
listener whose one route redirects to HTTPS; one HTTPRoute per exposed service, bound to the
HTTPS listeners only, so nothing is served in clear. JWT as with Istio's Gateway, the policies
attached to the Gateway by `targetRefs` (how Istio applies policy to a Gateway API gateway:
a `selector` is ineffective on it, IST0166).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Ingress, Service
from charts_py.constructs import jwt
from charts_py.constructs.objects import emit

GATEWAY_API = "gateway.networking.k8s.io"
HTTPS_PORT, HTTP_PORT = 443, 80


class GatewayApiIngress(Construct):
    """The Gateway, the HTTP->HTTPS redirect, an HTTPRoute per exposed service, JWT."""

    def __init__(self, scope: Construct, *, env: Environment, ingress: Ingress) -> None:
        super().__init__(scope, "ingress")
        root, name = naming.MESH_ROOT, naming.INGRESS_GATEWAY
        hosts = [host.traced() for host in env.traced(ingress).hosts]
        # The revision whose istiod deploys and programs the gateway, as for the Helm ones.
        revision = {"istio.io/rev": env.mesh.gateway_revision}
        gateway = {"spec": _gateway(env, ingress, hosts, revision)}
        emit(self, kinds.GATEWAY_API_GATEWAY, name, gateway, namespace=root, labels=revision)
        redirect = {"spec": _redirect(ingress.hosts)}
        emit(self, kinds.HTTP_ROUTE, f"{name}-https-redirect", redirect, namespace=root)
        for service in _exposed(env):
            route = {"spec": _service_route(env, service, ingress.hosts, hosts)}
            ns = env.namespace_of(service)
            emit(self, kinds.HTTP_ROUTE, f"{name}-{service.name}", route, namespace=ns)
        if ingress.jwt:
            target = {"targetRefs": [{"group": GATEWAY_API, "kind": "Gateway", "name": name}]}
            jwt.add_jwt(self, env, ingress, target, [HTTPS_PORT, HTTP_PORT])


def _gateway(
    env: Environment, ingress: Ingress, hosts: list[Any], revision: dict[str, str]
) -> dict[str, Any]:
    """The Gateway's spec: class `istio`, two listeners per host."""
    secret = {"kind": "Secret", "name": env.traced(ingress).tls_secret.traced()}
    listeners = [
        listener
        for host, spelt in zip(ingress.hosts, hosts, strict=True)
        for listener in _listeners(host, spelt, secret, env)
    ]
    return {
        "gatewayClassName": naming.INGRESS_GATEWAY_CLASS,
        # Without infrastructure labels istiod copies the Gateway's own (meshops's, which
        # drift finds extra objects by) onto the Deployment, Service and ServiceAccount it
        # creates (pilot/pkg/config/kube/gatewaycommon: extractInfrastructureMetadata).
        "infrastructure": {"labels": revision},
        "listeners": listeners,
    }


def _redirect(hosts: list[str]) -> dict[str, Any]:
    """On the HTTP listeners only: everything to HTTPS, permanently (Istio's httpsRedirect)."""
    redirect = {"scheme": "https", "statusCode": 301}
    filters = [{"type": "RequestRedirect", "requestRedirect": redirect}]
    return {"parentRefs": _parents(hosts, "http"), "rules": [{"filters": filters}]}


def _listener_name(protocol: str, host: str) -> str:
    """A listener per protocol and host, named for both (`https-shop.example.com`): a
    wildcard's `*` is not allowed in a section name."""
    if host == "*":
        return protocol
    return f"{protocol}-{host.replace('*', 'wildcard', 1)}"


def _listeners(host: str, traced: Any, secret: dict[str, Any], env: Environment) -> list[Any]:
    """HTTPS with the certificate, and HTTP (redirected), for one host (`*`: any host)."""
    hostname = {} if host == "*" else {"hostname": traced}
    namespaces = {"from": "Selector", "selector": _namespace_selector(env)}
    return [
        {
            "name": _listener_name("https", host),
            **hostname,
            "port": HTTPS_PORT,
            "protocol": "HTTPS",
            "tls": {"mode": "Terminate", "certificateRefs": [secret]},
            "allowedRoutes": {"namespaces": namespaces},
        },
        {
            "name": _listener_name("http", host),
            **hostname,
            "port": HTTP_PORT,
            "protocol": "HTTP",
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        },
    ]


def _namespace_selector(env: Environment) -> dict[str, Any]:
    """The namespaces of the exposed services, where their routes live (by the label
    Kubernetes sets on every Namespace): no other may attach routes to the public entry."""
    namespaces = sorted({env.namespace_of(s) for s in _exposed(env)})
    if len(namespaces) == 1:
        return {"matchLabels": {"kubernetes.io/metadata.name": namespaces[0]}}
    name = {"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}
    return {"matchExpressions": [name]}


def _parents(hosts: list[str], protocol: str) -> list[dict[str, Any]]:
    """The Gateway's listeners of one protocol, one parent reference each."""
    return [
        {
            "group": GATEWAY_API,
            "kind": "Gateway",
            "namespace": naming.MESH_ROOT,
            "name": naming.INGRESS_GATEWAY,
            "sectionName": _listener_name(protocol, host),
        }
        for host in hosts
    ]


def _exposed(env: Environment) -> list[Service]:
    """The services with an ingress route, longest path first (the order of Istio's
    VirtualService; Gateway API itself gives the longest matching prefix precedence)."""
    exposed = [s for s in env.services if s.ingress]
    return sorted(exposed, key=lambda s: (-len(s.ingress.path) if s.ingress else 0, s.name))


def _service_route(
    env: Environment, service: Service, hosts: list[str], traced_hosts: list[Any]
) -> dict[str, Any]:
    """The service's path on the HTTPS listeners, to its Service and port, with its route
    timeout. Gateway API's standard channel has no retries (`retry` is experimental in
    v1.6): Istio's default retry policy applies on this hop."""
    svc = env.traced(service)
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": svc.ingress.path.traced()}}],
        # group and kind as the server defaults them: the recorded defaults cannot tell a
        # defaulted "Service" from one copied off a Service parent (drift/defaults.py).
        "backendRefs": [
            {"group": "", "kind": "Service", "name": service.name, "port": _port(env, service)}
        ],
    }
    if svc.timeout.plain:
        rule["timeouts"] = {"request": svc.timeout.traced()}
    hostnames = [t for h, t in zip(hosts, traced_hosts, strict=True) if h != "*"]
    return {
        "parentRefs": _parents(hosts, "https"),
        **({"hostnames": hostnames} if hostnames else {}),
        "rules": [rule],
    }


def _port(env: Environment, service: Service) -> Any:
    """The Service port the route sends to: `port`, or the first of `ports`."""
    svc = env.traced(service)
    if service.ports is None:
        return svc.port.traced()
    return svc.ports[0].port.traced()
