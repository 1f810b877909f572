"""Gateways: port names, one Gateway per host:port, bindings of VirtualServices, and the
ports of the gateway workload's Service."""

from __future__ import annotations

from collections.abc import Iterator

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.scope import Scope, items, mapping, namespace, pod_labels, selects


def _servers(gateway: Document) -> Iterator[tuple[str, dict[str, object], dict[str, object]]]:
    """(pointer, server, port) for each server of a Gateway."""
    for i, server in enumerate(items(gateway.spec.get("servers"))):
        if isinstance(server, dict) and isinstance(server.get("port"), dict):
            yield pointer("spec", "servers", i), server, server["port"]


@check("gateway-port-names")
def gateway_port_names(scope: Scope) -> Iterator[Outcome]:
    for gateway in scope.of(gk.GATEWAY):
        first: dict[str, str] = {}
        for at, _, port in _servers(gateway):
            name = str(port.get("name") or "")
            if name and first.setdefault(name, at) != at:
                message = f"port name {name!r} is also used at {first[name]}"
                yield fail(gateway, f"{at}/port/name", message)


@check("gateway-host-port")
def gateway_host_port(scope: Scope) -> Iterator[Outcome]:
    """Like IST0145, on each Gateway of a clash: two Gateways serve one host on one port to
    the same gateway pods (equal selectors, or selectors both matching a pod)."""
    served: list[tuple[Document, str, str, str]] = []
    for gateway in scope.of(gk.GATEWAY):
        for at, server, port in _servers(gateway):
            for j, host in enumerate(items(server.get("hosts"))):
                key = f"{str(host).rpartition('/')[2]}:{port.get('number')}"
                served.append((gateway, f"{at}/hosts/{j}", key, str(server.get("bind") or "")))
    pods = [pod_labels(w) for w in scope.running] + [
        dict(e.labels) for e in scope.outside("Deployment")
    ]
    for gateway, at, key, bind in served:
        others = sorted(
            {
                f"{namespace(o)}/{o.name}"
                for o, _, other_key, other_bind in served
                if o is not gateway
                and (other_key, other_bind) == (key, bind)
                and _same_pods(gateway, o, pods)
            }
        )
        if others:
            message = f"{key} is also served by Gateway {', '.join(others)} on the same workloads"
            yield fail(gateway, at, message)


def _same_pods(one: Document, other: Document, pods: list[dict[str, str]]) -> bool:
    """Equal selectors, or both selecting one of `pods`."""
    selectors = [_selector(g) for g in (one, other)]
    if selectors[0] == selectors[1]:
        return True
    return any(all(s.items() <= labels.items() for s in selectors) for labels in pods)


def _selector(gateway: Document) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(gateway.spec.get("selector")).items()}


def bound_gateway(scope: Scope, vs: Document, ref: str) -> tuple[str, Document | None]:
    """(`namespace/name`, the Gateway) a VirtualService's `gateways` entry names; a name
    without a namespace is in the VirtualService's namespace. Like Istio, an Istio Gateway of
    that name first, else a Kubernetes (Gateway API) Gateway, which Istio binds too."""
    ns, _, name = ref.rpartition("/")
    ns = ns or namespace(vs)
    found = scope.find(gk.GATEWAY, ns, name) or scope.find(gk.K8S_GATEWAY, ns, name)
    return f"{ns}/{name}", found


def _bindings(scope: Scope, vs: Document) -> Iterator[tuple[str, str, Document | None]]:
    """(pointer, `namespace/name`, Gateway or None) for each gateway but `mesh`."""
    for i, ref in enumerate(items(vs.spec.get("gateways"))):
        if ref != "mesh":
            yield (pointer("spec", "gateways", i), *bound_gateway(scope, vs, str(ref)))


@check("gateway-exists")
def gateway_exists(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for at, full, gateway in _bindings(scope, vs):
            if gateway is None:
                yield fail(
                    vs, at, f"Gateway {full} is not in the manifests: the routes never apply"
                )


@check("gateway-serves-host")
def gateway_serves_host(scope: Scope) -> Iterator[Outcome]:
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        hosts = [str(h) for h in items(vs.spec.get("hosts"))]
        for at, full, gateway in _bindings(scope, vs):
            if gateway is None:
                continue
            served = _served_hosts(gateway, namespace(vs))
            if not any(host_matches(g, h) for g in served for h in hosts):
                message = f"Gateway {full} serves none of {hosts} (it serves {served})"
                yield fail(vs, at, message)


def _served_hosts(gateway: Document, vs_namespace: str) -> list[str]:
    """The server hosts of a Gateway that a VirtualService in `vs_namespace` may bind:
    `<ns>/<host>` limits a host to one namespace (`.`: the Gateway's, `*`: any). A
    Kubernetes Gateway's listeners: a listener without a hostname serves every host."""
    if gateway.group_kind == gk.K8S_GATEWAY:
        listeners = [mapping(li) for li in items(gateway.spec.get("listeners"))]
        return [str(li.get("hostname") or "*") for li in listeners]
    out = []
    for _, server, _ in _servers(gateway):
        for entry in items(server.get("hosts")):
            ns, _, host = str(entry).rpartition("/")
            ns = namespace(gateway) if ns == "." else ns
            if ns in ("", "*", vs_namespace):
                out.append(host)
    return out


def host_matches(served: str, host: str) -> bool:
    """Istio's host matching (host.Name.Matches): equal, or a wildcard (`*`, `*.suffix`) on
    either side covering the other."""
    if "*" in (served, host) or served == host:
        return True
    if served.startswith("*.") and host.endswith(served[1:]):
        return True
    return host.startswith("*.") and served.endswith(host[1:])


@check("gateway-service-port")
def gateway_service_port(scope: Scope) -> Iterator[Outcome]:
    """Like IST0162 (a warning): the port is compared with the Services in front of the
    selected pods. Where those pods are neither in the manifests nor in a declared cluster's
    installation (config/installation.py), their Service's ports are Istio's usual ones: an
    assumption, and the message says which."""
    for gateway in scope.of(gk.GATEWAY):
        selector = {str(k): str(v) for k, v in mapping(gateway.spec.get("selector")).items()}
        ports = scope.gateway_ports(selector)
        if ports is None or not selector:
            continue  # no workload known for the selector: nothing to compare with
        here = any(selects({"matchLabels": selector}, pod_labels(w)) for w in scope.running)
        known = here or scope.installation.declared  # our own render: its ports are known
        assumed = "" if known else _declared_service(scope, selector, ports)
        for at, _, port in _servers(gateway):
            number = port.get("number")
            if isinstance(number, int) and number not in ports:
                message = (
                    f"port {number} is not exposed by the Service of the workloads {selector} "
                    f"(it exposes {sorted(ports)}): the server is unreachable"
                )
                yield fail(gateway, f"{at}/port/number", message, assuming=assumed)


def _declared_service(scope: Scope, selector: dict[str, str], ports: set[int]) -> str:
    """The assumption behind ports taken from the out-of-band declaration."""
    names = sorted(
        f"{e.namespace}/{e.name}"
        for e in scope.outside("Service")
        if selector.items() <= dict(e.labels).items()
    )
    return (
        f"the gateway Service is {', '.join(names) or 'the declared one'} as installed by "
        f"Istio's gateway chart with meshops's values (ports {sorted(ports)}, "
        "config/installation.py); istioctl's default and demo profiles expose other ports"
    )
