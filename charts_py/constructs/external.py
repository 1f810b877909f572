"""Dependencies outside the mesh: registered with ServiceEntries, sensitive ones via egress."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import installation
from charts_py.config.environment import Environment
from charts_py.config.model import ExternalService
from charts_py.constructs import istio_spec
from charts_py.constructs.objects import emit


class External(Construct):
    """A ServiceEntry for one host; with an egress gateway, the two-leg TLS route too."""

    def __init__(self, scope: Construct, *, env: Environment, external: ExternalService) -> None:
        super().__init__(scope, f"external-{external.name}")
        ns = env.spec.namespace
        traced = env.traced(external)
        hosts = [traced.host.traced()] if external.hosts is None else istio_spec.body(traced.hosts)
        entry: dict[str, Any] = {"hosts": hosts}
        if external.ports is None:
            protocol = str(external.protocol)
            port = {
                "number": traced.port.traced(),
                "name": f"{protocol.lower()}-{external.port}",
                "protocol": traced.protocol.traced(),
            }
            entry["ports"] = [port]
        for key in SERVICE_ENTRY_FIELDS:
            if traced.step(key).plain is not None:
                entry[key] = istio_spec.body(traced.step(key))
        entry["resolution"] = traced.resolution.traced()
        entry["location"] = traced.location.traced()
        emit(self, kinds.SERVICE_ENTRY, external.name, {"spec": entry}, namespace=ns)
        if external.traffic_policy is not None:
            rule = {
                "host": hosts[0],
                "trafficPolicy": istio_spec.body(traced.traffic_policy),
            }
            emit(self, kinds.DESTINATION_RULE, external.name, {"spec": rule}, namespace=ns)
        if installation.via_egress_gateway(env, external):
            emit(
                self,
                kinds.VIRTUAL_SERVICE,
                f"egress-{external.name}",
                {"spec": _egress_route(external)},
                namespace=ns,
            )


SERVICE_ENTRY_FIELDS = ("ports", "addresses", "endpoints", "exportTo", "subjectAltNames")
"""An external service's fields that are Istio's ServiceEntry fields, rendered as written."""


def _egress_route(external: ExternalService) -> dict[str, Any]:
    """Sidecar -> egress gateway (443) -> external host, matched by SNI (TLS passthrough)."""
    gateway = f"{naming.MESH_ROOT}/{naming.EGRESS_GATEWAY}"
    # Set: a sensitive host takes host, port and protocol (config/istio_checks.py).
    host, port = str(external.host), external.port or 443
    sni = [host]
    return {
        "hosts": [host],
        "gateways": ["mesh", gateway],
        "tls": [
            {
                "match": [{"gateways": ["mesh"], "port": port, "sniHosts": sni}],
                "route": [
                    {"destination": {"host": naming.EGRESS_GATEWAY_HOST, "port": {"number": 443}}}
                ],
            },
            {
                "match": [{"gateways": [gateway], "port": 443, "sniHosts": sni}],
                "route": [{"destination": {"host": host, "port": {"number": port}}}],
            },
        ],
    }
