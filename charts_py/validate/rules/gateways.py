"""Gateways: server port names, and one Gateway per host:port on a gateway deployment."""

from __future__ import annotations

from collections.abc import Iterator

from charts_py.jsonpointer import pointer
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.scope import Scope, items, mapping


def _servers(gateway: Document) -> Iterator[tuple[str, dict[str, object], dict[str, object]]]:
    """(pointer, server, port) for each server of a Gateway."""
    for i, server in enumerate(items(gateway.spec.get("servers"))):
        if isinstance(server, dict) and isinstance(server.get("port"), dict):
            yield pointer("spec", "servers", i), server, server["port"]


@check("gateway-port-names")
def gateway_port_names(scope: Scope) -> Iterator[Outcome]:
    for gateway in scope.of("Gateway"):
        first: dict[str, str] = {}
        for at, _, port in _servers(gateway):
            name = str(port.get("name") or "")
            if name and first.setdefault(name, at) != at:
                message = f"port name {name!r} is also used at {first[name]}"
                yield fail(gateway, f"{at}/port/name", message)


@check("gateway-host-port")
def gateway_host_port(scope: Scope) -> Iterator[Outcome]:
    first: dict[tuple[str, str, str], Document] = {}
    for gateway in scope.of("Gateway"):
        selector = repr(sorted(mapping(gateway.spec.get("selector")).items()))
        for at, server, port in _servers(gateway):
            hosts = server.get("hosts")
            for j, host in enumerate(hosts if isinstance(hosts, list) else []):
                key = (selector, str(host).rpartition("/")[2], str(port.get("number")))
                other = first.setdefault(key, gateway)
                if other is not gateway:
                    where = f"Gateway {other.namespace}/{other.name}"
                    message = f"{key[1]}:{key[2]} is also served by {where} on the same workloads"
                    yield fail(gateway, f"{at}/hosts/{j}", message)
