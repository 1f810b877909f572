"""Traffic entering and leaving the mesh: ingress, east-west (multi-network) and egress."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Ingress
from charts_py.config.view import View
from charts_py.constructs import istio_spec, jwt, traffic
from charts_py.constructs.objects import emit


class IngressGateway(Construct):
    """TLS ingress for the environment's hosts, routes by path, JWT where the file asks."""

    def __init__(self, scope: Construct, *, env: Environment, ingress: Ingress) -> None:
        super().__init__(scope, "ingress")
        root, ns = naming.MESH_ROOT, env.spec.namespace
        traced = env.traced(ingress)
        hosts = [host.traced() for host in traced.hosts]
        servers: list[dict[str, Any]] = (
            _https_servers(hosts, traced.tls_secret)
            if ingress.servers is None
            else istio_spec.body(traced.servers)
        )
        gateway = {"selector": naming.INGRESS_GATEWAY_SELECTOR, "servers": servers}
        emit(self, kinds.GATEWAY, naming.INGRESS_GATEWAY, {"spec": gateway}, namespace=root)
        routes = {
            "hosts": hosts,
            "gateways": [f"{root}/{naming.INGRESS_GATEWAY}"],
            "http": _path_routes(env),
        }
        emit(self, kinds.VIRTUAL_SERVICE, "ingress", {"spec": routes}, namespace=ns)
        if ingress.jwt:
            target = {"selector": {"matchLabels": naming.INGRESS_GATEWAY_SELECTOR}}
            jwt.add_jwt(self, env, ingress, target, _server_ports(ingress))


def _server_ports(ingress: Ingress) -> list[int]:
    """The port numbers of the ingress's servers (the shorthand's: 443 and 80)."""
    if ingress.servers is None:
        return [443, 80]
    return [server.port.number for server in ingress.servers if server.port]


def _https_servers(hosts: list[Any], secret: View) -> list[dict[str, Any]]:
    """The shorthand's servers: HTTPS on 443 with the `tlsSecret`, and 80 redirecting to it."""
    return [
        {
            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
            "hosts": hosts,
            "tls": {"mode": "SIMPLE", "credentialName": secret.traced()},
        },
        {
            "port": {"number": 80, "name": "http", "protocol": "HTTP"},
            "hosts": hosts,
            "tls": {"httpsRedirect": True},
        },
    ]


def _path_routes(env: Environment) -> list[dict[str, Any]]:
    """Each exposed service's own routing (subsets, weights, retries, timeouts) behind its
    path prefix, longest prefix first so `/api/` is matched before `/`.

    A gateway uses only the VirtualServices bound to it, so a plain route to the host would
    bypass the service's mesh VirtualService (Istio's IST0140); Istio documents repeating the
    subsets in the gateway's routes as the fix, and this repeats all of the service's routing.
    """
    exposed = [s for s in env.services if s.ingress]
    exposed.sort(key=lambda s: (-len(s.ingress.path), s.name) if s.ingress else (0, s.name))
    return [
        _behind(
            route,
            service.name,
            env.traced(service).ingress.path.traced(),
        )
        for service in exposed
        if service.ingress
        for route in traffic.service_http(env, service)
    ]


def _behind(route: dict[str, Any], service: str, prefix: object) -> dict[str, Any]:
    """A mesh route of `service` that also requires the path `prefix` (every match block)."""
    path = {"uri": {"prefix": prefix}}
    blocks = route.get("match") or [{}]
    own = route.get("name", "default")
    name = service if own == "default" else f"{service}-{own}"
    return {**route, "name": name, "match": [{**path, **block} for block in blocks]}


class EastWestGateway(Construct):
    """Cross-network traffic between primaries: mTLS passthrough on 15443 for `*.local`."""

    def __init__(self, scope: Construct) -> None:
        super().__init__(scope, "east-west")
        server = {
            "port": {"number": 15443, "name": "tls", "protocol": "TLS"},
            "tls": {"mode": "AUTO_PASSTHROUGH"},
            "hosts": ["*.local"],
        }
        spec = {"selector": naming.EASTWEST_GATEWAY_SELECTOR, "servers": [server]}
        emit(self, kinds.GATEWAY, "cross-network", {"spec": spec}, namespace=naming.MESH_ROOT)


class EgressGateway(Construct):
    """One egress Gateway passing TLS through for the sensitive external hosts."""

    def __init__(self, scope: Construct, *, hosts: list[str]) -> None:
        super().__init__(scope, "egress")
        server = {
            "port": {"number": 443, "name": "tls", "protocol": "TLS"},
            "hosts": sorted(hosts),
            "tls": {"mode": "PASSTHROUGH"},
        }
        spec = {"selector": naming.EGRESS_GATEWAY_SELECTOR, "servers": [server]}
        emit(self, kinds.GATEWAY, naming.EGRESS_GATEWAY, {"spec": spec}, namespace=naming.MESH_ROOT)
