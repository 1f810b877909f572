"""Gateway API objects an environment file describes in Gateway API's own terms.

Each entry is an object's `name` plus the fields of its kind's `spec`, typed exactly as the
pinned standard-channel CRDs type them (config/gateway_api.py, generated): a user looks the
fields up in Gateway API's reference. They are namespace-wide lists (the top level, or a
`namespaces:` entry), rendered as written: nothing is filled in. Gateway API's Gateways are
`gatewayApiGateways`, because `gateways` holds Istio's (networking.istio.io).
"""

from __future__ import annotations

from charts_py.config import gateway_api as api
from charts_py.config.istio_objects import ObjectName


class GatewayApiGateway(api.GatewaySpec):
    """A Gateway of gateway.networking.k8s.io: `name`, then its spec (`gatewayClassName`,
    `listeners`, `addresses`, `infrastructure`)."""

    name: ObjectName


class HTTPRoute(api.HTTPRouteSpec):
    """An HTTPRoute: `name`, then its spec (`parentRefs`, `hostnames`, `rules`)."""

    name: ObjectName


class GRPCRoute(api.GRPCRouteSpec):
    """A GRPCRoute: `name`, then its spec (`parentRefs`, `hostnames`, `rules`)."""

    name: ObjectName


class TCPRoute(api.TCPRouteSpec):
    """A TCPRoute: `name`, then its spec (`parentRefs`, `rules` of `backendRefs`)."""

    name: ObjectName


class TLSRoute(api.TLSRouteSpec):
    """A TLSRoute: `name`, then its spec (`parentRefs`, `hostnames`, `rules`)."""

    name: ObjectName


class ReferenceGrant(api.ReferenceGrantSpec):
    """A ReferenceGrant: `name`, then its spec (`from`, `to`)."""

    name: ObjectName


BY_KIND: dict[str, type[api.IstioModel]] = {
    "Gateway": GatewayApiGateway,
    "HTTPRoute": HTTPRoute,
    "GRPCRoute": GRPCRoute,
    "TCPRoute": TCPRoute,
    "TLSRoute": TLSRoute,
    "ReferenceGrant": ReferenceGrant,
}
"""Each Gateway API kind's typed entry (`meshops import` writes an object as one)."""
