"""Sidecar and Telemetry defaults, and what leaves the mesh (REGISTRY_ONLY)."""

from __future__ import annotations

from collections.abc import Iterator

from charts_py.jsonpointer import pointer
from charts_py.naming import MESH_ROOT
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.findings import Severity
from charts_py.validate.groupkinds import GroupKind
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.rules.control_plane import helm_releases
from charts_py.validate.scope import Scope, dig, items, mapping, namespace, pod_labels


def _selectorless(scope: Scope, kind: GroupKind, *selectors: str) -> Iterator[Outcome]:
    """Every one of two or more selector-less objects of `kind` in one namespace."""
    by_namespace: dict[str, list[Document]] = {}
    for doc in scope.of(kind):
        if not any(doc.spec.get(s) for s in selectors):
            by_namespace.setdefault(namespace(doc), []).append(doc)
    for ns, docs in by_namespace.items():
        for doc in docs if len(docs) > 1 else []:
            others = ", ".join(d.name for d in docs if d is not doc)
            message = f"{kind.kind} without selector in {ns}, as are {others}"
            yield fail(doc, "/spec", f"{message}: Istio picks one of them arbitrarily")


_SELECTORS = {
    gk.SIDECAR: ("workloadSelector", "labels"),
    gk.TELEMETRY: ("selector", "matchLabels"),
}
"""Where a Sidecar and a Telemetry name the pods they apply to."""


def _selected(scope: Scope) -> Iterator[tuple[Document, str, dict[str, str]]]:
    """(object, pointer, labels) of every Sidecar and Telemetry with a selector."""
    for kind, keys in _SELECTORS.items():
        for doc in scope.of(kind):
            labels = dig(doc.spec, *keys)
            if isinstance(labels, dict) and labels:
                yield doc, pointer("spec", *keys), {str(k): str(v) for k, v in labels.items()}


@check("selector-unique")
def selector_unique(scope: Scope) -> Iterator[Outcome]:
    """Like IST0110 and IST0159: a pod two Sidecars (or two Telemetries) select gets one of
    them, which one is undefined. Judged on the pods of the manifests."""
    chosen: dict[tuple[GroupKind, str], list[tuple[Document, str, dict[str, str]]]] = {}
    for doc, at, selector in _selected(scope):  # by kind and namespace: compared pod by pod
        chosen.setdefault((doc.group_kind, namespace(doc)), []).append((doc, at, selector))
    reported: set[int] = set()
    for pod in scope.running:
        labels = pod_labels(pod)
        for kind in _SELECTORS:
            candidates = chosen.get((kind, namespace(pod)), [])
            picks = [(d, at) for d, at, sel in candidates if sel.items() <= labels.items()]
            for doc, at in picks if len(picks) > 1 else []:
                if id(doc) in reported:
                    continue
                reported.add(id(doc))
                others = ", ".join(d.name for d, _ in picks if d is not doc)
                message = f"{pod.kind} {pod.name} is also selected by {kind.kind} {others}"
                yield fail(doc, at, f"{message}: which one applies is undefined")


@check("selector-matches-workload")
def selector_matches_workload(scope: Scope) -> Iterator[Outcome]:
    """Like IST0101 on a Sidecar's or Telemetry's selector: it selects no pods of its
    namespace in the manifests. They may come from elsewhere (another repository, a Helm
    release): said as an assumption."""
    for doc, at, selector in _selected(scope):
        ns = namespace(doc)
        if not scope.selects_pods(ns, selector):
            message = f"selects no pods in {ns} ({selector}): it applies to nothing"
            yield fail(doc, at, message, assuming=f"every workload of {ns} is in these manifests")


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


TCP_PROTOCOLS = ("", "TCP")
"""ServiceEntry port protocols routed by destination address and port alone, as IST0134
reads them (no Host header, no SNI)."""


@check("service-entry-addresses")
def service_entry_addresses(scope: Scope) -> Iterator[Outcome]:
    """Like IST0134: without `addresses`, a TCP ServiceEntry's listener is 0.0.0.0:<port>,
    taking every connection to that port that nothing else claims; two of them on one
    port collide, and one takes the other's traffic. Unless the mesh allocates addresses
    (DNS capture with auto-allocation): known from an istiod Application in the
    manifests, else assumed off and said so."""
    allocation = _auto_allocation(scope)
    if allocation is True:
        return
    unknown = "" if allocation is False else _NOT_ALLOCATED
    first: dict[int, Document] = {}
    for entry in scope.of(gk.SERVICE_ENTRY):
        if items(entry.spec.get("addresses")):
            continue
        for i, number in _tcp_ports(entry):
            other = first.setdefault(number, entry)
            at = pointer("spec", "ports", i)
            if other is not entry:
                where = f"ServiceEntry {namespace(other)}/{other.name}"
                message = f"TCP port {number} without addresses is also {where}'s"
                yield fail(entry, at, f"{message}: one captures both", assuming=unknown)
            else:
                message = f"TCP port {number} without addresses: it takes every connection to it"
                yield fail(entry, at, message, assuming=unknown, at_most=Severity.WARNING)


_NOT_ALLOCATED = (
    "the mesh does not auto-allocate addresses (meshConfig.defaultConfig.proxyMetadata "
    "ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE; istiod's configuration is not "
    "in these manifests)"
)
_CAPTURE = "ISTIO_META_DNS_CAPTURE"
_ALLOCATE = ("ISTIO_META_DNS_AUTO_ALLOCATE", "PILOT_ENABLE_IP_AUTOALLOCATE")


def _auto_allocation(scope: Scope) -> bool | None:
    """Whether every istiod Application in the manifests has the proxies capture DNS and
    allocate addresses; None when there is none (the mesh configuration is elsewhere)."""
    istiods = helm_releases(scope, "istiod")
    if not istiods:
        return None
    for release in istiods:
        metadata = mapping(dig(release.values, "meshConfig", "defaultConfig", "proxyMetadata"))
        on = {k for k, v in metadata.items() if str(v).lower() == "true"}
        if _CAPTURE not in on or not on & set(_ALLOCATE):
            return False
    return True


def _tcp_ports(entry: Document) -> Iterator[tuple[int, int]]:
    """(index, number) of the ServiceEntry's ports routed by address and port alone."""
    for i, port in enumerate(items(entry.spec.get("ports"))):
        if not isinstance(port, dict) or not isinstance(port.get("number"), int):
            continue
        if str(port.get("protocol") or "").upper() in TCP_PROTOCOLS:
            yield i, port["number"]
