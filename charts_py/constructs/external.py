"""Dependencies outside the mesh: registered with ServiceEntries, sensitive ones via egress."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import installation
from charts_py.config.environment import Environment
from charts_py.config.model import ExternalService
from charts_py.constructs.objects import emit


class External(Construct):
    """A ServiceEntry for one host; with an egress gateway, the two-leg TLS route too."""

    def __init__(self, scope: Construct, *, env: Environment, external: ExternalService) -> None:
        super().__init__(scope, f"external-{external.name}")
        ns = env.spec.namespace
        traced = env.traced(external)
        port = {
            "number": traced.port.traced(),
            "name": f"{external.protocol.lower()}-{external.port}",
            "protocol": traced.protocol.traced(),
        }
        entry = {
            "hosts": [traced.host.traced()],
            "ports": [port],
            "resolution": "DNS",
            "location": "MESH_EXTERNAL",
        }
        emit(self, kinds.SERVICE_ENTRY, external.name, {"spec": entry}, namespace=ns)
        if installation.via_egress_gateway(env, external):
            emit(
                self,
                kinds.VIRTUAL_SERVICE,
                f"egress-{external.name}",
                {"spec": _egress_route(external)},
                namespace=ns,
            )


def _egress_route(external: ExternalService) -> dict[str, Any]:
    """Sidecar -> egress gateway (443) -> external host, matched by SNI (TLS passthrough)."""
    gateway = f"{naming.MESH_ROOT}/{naming.EGRESS_GATEWAY}"
    sni = [external.host]
    return {
        "hosts": [external.host],
        "gateways": ["mesh", gateway],
        "tls": [
            {
                "match": [{"gateways": ["mesh"], "port": external.port, "sniHosts": sni}],
                "route": [
                    {"destination": {"host": naming.EGRESS_GATEWAY_HOST, "port": {"number": 443}}}
                ],
            },
            {
                "match": [{"gateways": [gateway], "port": 443, "sniHosts": sni}],
                "route": [
                    {"destination": {"host": external.host, "port": {"number": external.port}}}
                ],
            },
        ],
    }
