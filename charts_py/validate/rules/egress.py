"""Sidecar and Telemetry defaults, and what leaves the mesh (REGISTRY_ONLY)."""

from __future__ import annotations

from collections.abc import Iterator

from charts_py.jsonpointer import pointer
from charts_py.naming import MESH_ROOT
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.groupkinds import GroupKind
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, dig, items, namespace


def _selectorless(scope: Scope, kind: GroupKind, *selectors: str) -> Iterator[Outcome]:
    first: dict[str, Document] = {}
    for doc in scope.of(kind):
        if any(doc.spec.get(s) for s in selectors):
            continue
        other = first.setdefault(namespace(doc), doc)
        if other is not doc:
            message = (
                f"second {kind.kind} without selector in {namespace(doc)} (first: {other.name})"
            )
            yield fail(doc, "/spec", f"{message}: Istio picks one of them arbitrarily")


@check("sidecar-unique")
def sidecar_unique(scope: Scope) -> Iterator[Outcome]:
    yield from _selectorless(scope, gk.SIDECAR, "workloadSelector")


@check("telemetry-unique")
def telemetry_unique(scope: Scope) -> Iterator[Outcome]:
    yield from _selectorless(scope, gk.TELEMETRY, "selector", "targetRef", "targetRefs")


@check("egress-restricted")
def egress_restricted(scope: Scope) -> Iterator[Outcome]:
    for sidecar in scope.of(gk.SIDECAR):
        mode = dig(sidecar.spec, "outboundTrafficPolicy", "mode")
        at = "/spec/outboundTrafficPolicy/mode"
        if mode == "REGISTRY_ONLY":
            yield ok(sidecar, at, "REGISTRY_ONLY")
        else:
            shown = mode or "unset (mesh default: ALLOW_ANY)"
            yield fail(sidecar, at, f"outbound traffic {shown} reaches any host")
    for ns in scope.injected_namespaces():
        defaults = [
            s
            for s in scope.of(gk.SIDECAR)
            if namespace(s) in (ns.name, MESH_ROOT) and not s.spec.get("workloadSelector")
        ]
        if not defaults:
            message = f"no default Sidecar in {ns.name}: outbound traffic is the mesh default"
            yield fail(ns, "/metadata/name", message)


@check("registry-only-service-entry")
def registry_only_service_entry(scope: Scope) -> Iterator[Outcome]:
    for sidecar in scope.of(gk.SIDECAR):
        if dig(sidecar.spec, "outboundTrafficPolicy", "mode") != "REGISTRY_ONLY":
            continue
        for i, listener in enumerate(items(sidecar.spec.get("egress"))):
            hosts = listener.get("hosts") if isinstance(listener, dict) else None
            for j, entry in enumerate(items(hosts)):
                host = str(entry).rpartition("/")[2]
                if "*" in host or host in ("", "~"):
                    continue
                at = pointer("spec", "egress", i, "hosts", j)
                if scope.resolves(host):
                    yield ok(sidecar, at, f"{host} is registered")
                else:
                    message = f"REGISTRY_ONLY blocks {host}: no ServiceEntry or Service for it"
                    yield fail(sidecar, at, message)


TCP_PROTOCOLS = ("", "TCP", "MONGO", "MYSQL", "REDIS")
"""ServiceEntry port protocols routed by destination address and port alone (no Host, no SNI)."""


@check("service-entry-addresses")
def service_entry_addresses(scope: Scope) -> Iterator[Outcome]:
    """Without `addresses`, a TCP ServiceEntry's listener is 0.0.0.0:<port>: two of them on one
    port collide, and one takes the other's traffic."""
    first: dict[int, Document] = {}
    for entry in scope.of(gk.SERVICE_ENTRY):
        if items(entry.spec.get("addresses")):
            continue
        for i, number in _tcp_ports(entry):
            other = first.setdefault(number, entry)
            if other is not entry:
                where = f"ServiceEntry {namespace(other)}/{other.name}"
                message = f"TCP port {number} without addresses is also {where}'s"
                yield fail(entry, pointer("spec", "ports", i), f"{message}: one captures both")


def _tcp_ports(entry: Document) -> Iterator[tuple[int, int]]:
    """(index, number) of the ServiceEntry's ports routed by address and port alone."""
    for i, port in enumerate(items(entry.spec.get("ports"))):
        if not isinstance(port, dict) or not isinstance(port.get("number"), int):
            continue
        if str(port.get("protocol") or "").upper() in TCP_PROTOCOLS:
            yield i, port["number"]
