"""Ambient mode's sharp edges: configuration Istio accepts and then silently does not apply.

In ambient mode ztunnel carries every pod's traffic and enforces L4 only; L7 (HTTP routing,
HTTP authorization) happens only in a waypoint, a Gateway API Gateway of class
`istio-waypoint` that a namespace or Service opts into with `istio.io/use-waypoint`
(https://istio.io/latest/docs/ambient/usage/waypoint/). What does not reach a waypoint, or
what a waypoint does not read, is dropped without an error: these rules say so, with the
alternative.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py.config import ambient, gamma
from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail
from charts_py.validate.scope import Scope, dig, items, mapping, mesh_bound, namespace, resolve

WAYPOINT_CLASS = "istio-waypoint"
USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE = "istio.io/use-waypoint-namespace"
DATAPLANE_MODE = "istio.io/dataplane-mode"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
"""The label istiod puts on the pods it deploys for a Gateway (waypoints included)."""
REDIRECTION = "ambient.istio.io/redirection"
"""The annotation istio-cni puts on a pod whose traffic ztunnel captures."""
SELECTING_POLICIES = (
    gk.AUTHORIZATION_POLICY,
    gk.REQUEST_AUTHENTICATION,
    gk.TELEMETRY,
    gk.WASM_PLUGIN,
)
"""Policies that pick pods by `selector` or attach by `targetRefs`."""


def waypoints(scope: Scope) -> dict[tuple[str, str], Document]:
    """The waypoints in the manifests, by (namespace, name)."""
    return {
        (namespace(gw), gw.name): gw
        for gw in scope.of(gk.K8S_GATEWAY)
        if gw.spec.get("gatewayClassName") == WAYPOINT_CLASS
    }


def ambient_namespaces(scope: Scope) -> set[str]:
    """Namespaces the manifests put in ambient mode, as Istio reads them
    (pkg/config/analysis/analyzers/util/in_mesh.go: NamespaceInAmbientMode): labelled
    `istio.io/dataplane-mode: ambient`, and not also for sidecar injection (that wins)."""
    return {
        doc.name
        for doc in scope.of(gk.NAMESPACE)
        if doc.labels.get(DATAPLANE_MODE) == "ambient"
        and doc.labels.get("istio-injection") != "enabled"
        and not doc.labels.get("istio.io/rev")
    }


def _waypoint_named(doc: Document, namespaces: dict[str, Document]) -> tuple[str, str] | None:
    """The (namespace, name) of the waypoint `doc` uses: its own label, else (a Service) its
    namespace's; None without one or with `none` (opted out)."""
    labels = doc.labels
    if USE_WAYPOINT not in labels and doc.group_kind == gk.SERVICE:
        home = namespaces.get(namespace(doc))
        labels = home.labels if home else {}
    name = labels.get(USE_WAYPOINT)
    if not name or name == "none":
        return None
    own = doc.name if doc.group_kind == gk.NAMESPACE else namespace(doc)
    return labels.get(USE_WAYPOINT_NAMESPACE, own), name


@check("waypoint-exists")
def waypoint_exists(scope: Scope) -> Iterator[Outcome]:
    """A namespace or Service labelled for a waypoint that is not there: Istio sends its
    traffic straight to the pods, and every L7 policy and route meant for it does nothing."""
    found = waypoints(scope)
    for doc in scope.of(gk.NAMESPACE, gk.SERVICE):
        key = _waypoint_named(doc, {})  # its own label: a namespace's is reported once
        if key is None or key in found:
            continue
        other = scope.find(gk.K8S_GATEWAY, *key)
        what = (
            f"Gateway {key[0]}/{key[1]} is of class {other.spec.get('gatewayClassName')!r}, "
            f"not {WAYPOINT_CLASS}"
            if other
            else f"no waypoint {key[0]}/{key[1]} in the manifests"
        )
        yield fail(
            doc,
            pointer("metadata", "labels", USE_WAYPOINT),
            f"{what}: traffic bypasses it and L7 policy silently does not apply; add a Gateway "
            f"{key[1]} with gatewayClassName {WAYPOINT_CLASS} in {key[0]}, or remove the label",
        )


@check("http-policy-waypoint")
def http_policy_waypoint(scope: Scope) -> Iterator[Outcome]:
    """An AuthorizationPolicy that reads more than L4 and that ztunnel, not a waypoint,
    enforces (it selects pods, or the whole namespace, of an ambient namespace): ztunnel sees
    only L4 (what it can read: `config/ambient.py`, L4_SOURCE and the like), so it turns the
    policy into something else (an ALLOW matches nothing, a DENY everything it selects)."""
    ambient_ns = ambient_namespaces(scope)
    for policy in scope.of(gk.AUTHORIZATION_POLICY):
        ns = namespace(policy)
        if ns not in ambient_ns or policy.spec.get("targetRefs") or policy.spec.get("targetRef"):
            continue
        how = "by selector" if policy.spec.get("selector") else "namespace-wide"
        fix = (
            "attach the policy to the waypoint with targetRefs (kind Gateway, or the Service "
            "it serves) instead of selector"
        )
        if policy.spec.get("action") == "CUSTOM":
            yield fail(
                policy,
                "/spec/action",
                f"CUSTOM authorization ({how}, in ambient namespace {ns}) is not supported by "
                f"ztunnel: {fix}",
            )
            continue
        for i, rule in enumerate(items(policy.spec.get("rules"))):
            if ambient.l7_policy({"rules": [rule]}):
                yield fail(
                    policy,
                    pointer("spec", "rules", i),
                    f"HTTP attributes in a policy ztunnel enforces ({how}, in ambient namespace "
                    f"{ns}): ztunnel cannot evaluate them; {fix}",
                )
                break


@check("route-api-unique")
def route_api_unique(scope: Scope) -> Iterator[Outcome]:
    """A mesh VirtualService and a GAMMA HTTPRoute (a Service parent) for one host: which of
    the two applies is not defined (Istio merges neither into the other)."""
    routed: dict[str, tuple[Document, str]] = {}
    for route in scope.of(gk.HTTP_ROUTE, gk.GRPC_ROUTE):
        for i, parent in enumerate(items(route.spec.get("parentRefs"))):
            ref = mapping(parent)
            if ref.get("kind") == "Service" and ref.get("group", "") in ("", "core"):
                ns = str(ref.get("namespace") or namespace(route))
                host = resolve(str(ref.get("name")), ns)
                routed.setdefault(host, (route, pointer("spec", "parentRefs", i)))
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        if not mesh_bound(vs):
            continue
        for j, host in enumerate(items(vs.spec.get("hosts"))):
            found = routed.get(resolve(str(host), namespace(vs)))
            if found is None:
                continue
            route, _ = found
            yield fail(
                vs,
                pointer("spec", "hosts", j),
                f"{route.kind} {namespace(route)}/{route.name} also routes {host}: with both "
                "APIs for one host which applies is undefined; route it with one of them "
                "(HTTPRoute for ambient waypoints, VirtualService for sidecars)",
            )


@check("envoy-filter-waypoint")
def envoy_filter_waypoint(scope: Scope) -> Iterator[Outcome]:
    """An EnvoyFilter aimed at a waypoint: Istio does not apply EnvoyFilters to waypoints."""
    found = waypoints(scope)
    for doc in scope.of(gk.ENVOY_FILTER):
        ns = namespace(doc)
        labels = mapping(dig(doc.spec, "workloadSelector", "labels"))
        named = labels.get(GATEWAY_NAME_LABEL) or labels.get("istio.io/gateway-name")
        at = pointer("spec", "workloadSelector", "labels")
        hits = [(at, named)] if named and (ns, named) in found else []
        for i, ref in enumerate(items(doc.spec.get("targetRefs"))):
            name = mapping(ref).get("name")
            if mapping(ref).get("kind") == "Gateway" and (ns, name) in found:
                hits.append((pointer("spec", "targetRefs", i), name))
        for path, name in hits:
            yield fail(
                doc,
                path,
                f"selects waypoint {ns}/{name}, where EnvoyFilter is ignored; use a "
                "WasmPlugin or Istio's policy (AuthorizationPolicy, Telemetry) with targetRefs "
                "to the waypoint, or an HTTPRoute filter",
            )


@check("waypoint-fault-retries")
def waypoint_fault_retries(scope: Scope) -> Iterator[Outcome]:
    """Fault injection and Envoy retry conditions on a host whose waypoint routes it by
    HTTPRoute: Gateway API has no fault filter, and an HTTPRoute `retry` becomes the retry
    conditions connect-failure, refused-stream, unavailable, cancelled and its status codes
    (Istio's pilot/pkg/config/kube/gateway/conversion.go), so other conditions and
    `retryRemoteLocalities` have no equivalent where the traffic is routed."""
    namespaces = {doc.name: doc for doc in scope.of(gk.NAMESPACE)}
    served = {
        resolve(svc.name, namespace(svc))
        for svc in scope.of(gk.SERVICE)
        if _waypoint_named(svc, namespaces) is not None
    }
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        if not mesh_bound(vs):
            continue
        hosts = [h for h in items(vs.spec.get("hosts")) if resolve(str(h), namespace(vs)) in served]
        if not hosts:
            continue
        for i, route in enumerate(items(vs.spec.get("http"))):
            for field, what, instead in _no_equivalent(mapping(route)):
                yield fail(
                    vs,
                    pointer("spec", "http", i, *field),
                    f"{what} on {hosts[0]}, served by a waypoint: HTTPRoute has no "
                    f"equivalent; {instead}, or keep the namespace on sidecars while it "
                    "needs it",
                )


def _no_equivalent(route: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """(field, what, alternative) for each setting of an HTTP route that HTTPRoute lacks."""
    if route.get("fault") is not None:
        yield ("fault",), "fault injection", "inject faults with a chaos tool at the workload"
    retries = mapping(route.get("retries"))
    _, lost = gamma.retry_codes(str(retries.get("retryOn", "")))
    if lost:
        yield (
            ("retries", "retryOn"),
            f"retry conditions {','.join(lost)}",
            "retry on status codes (HTTPRoute retry.codes)",
        )
    for key in ("retryRemoteLocalities", "retryIgnorePreviousHosts"):
        if retries.get(key) is not None:
            yield (
                ("retries", key),
                f"retries.{key}",
                "rely on outlier detection (DestinationRule outlierDetection)",
            )


@check("sidecar-ambient")
def sidecar_ambient(scope: Scope) -> Iterator[Outcome]:
    """A Sidecar in an ambient namespace, or selecting pods ztunnel captures: there is no
    sidecar to configure (Istio's sidecar analyzer: IneffectivePolicy)."""
    ambient = ambient_namespaces(scope)
    for sidecar in scope.of(gk.SIDECAR):
        ns = namespace(sidecar)
        if ns in ambient:
            where = f"namespace {ns} is in ambient mode"
        elif _selects_captured_pods(scope, sidecar):
            where = "the pods it selects are in ambient mode"
        else:
            continue
        yield fail(
            sidecar,
            "/metadata/name",
            f"{where}: no sidecar reads this Sidecar; scope egress with ztunnel and waypoint "
            "policy (AuthorizationPolicy, ServiceEntry) instead, or remove it",
        )


def _selects_captured_pods(scope: Scope, sidecar: Document) -> bool:
    """Whether a Sidecar's workloadSelector matches pods istio-cni marked as captured."""
    wanted = mapping(dig(sidecar.spec, "workloadSelector", "labels"))
    return bool(wanted) and any(
        pod.annotations.get(REDIRECTION) == "enabled"
        and all(pod.labels.get(k) == v for k, v in wanted.items())
        for pod in scope.of(gk.POD)
        if namespace(pod) == namespace(sidecar)
    )


@check("gateway-policy-target")
def gateway_policy_target(scope: Scope) -> Iterator[Outcome]:
    """A policy that picks a Gateway API gateway's pods by `selector`: Istio ignores the
    selector there and wants `targetRefs` (its k8sgateway analyzer: IneffectiveSelector)."""
    gateways = {
        (namespace(doc), doc.labels[GATEWAY_NAME_LABEL])
        for doc in scope.of(gk.POD)
        if GATEWAY_NAME_LABEL in doc.labels
    } | {(namespace(doc), doc.name) for doc in scope.of(gk.K8S_GATEWAY)}
    for policy in scope.of(*SELECTING_POLICIES):
        spec = policy.spec
        if spec.get("targetRef") or spec.get("targetRefs"):
            continue
        name = mapping(dig(spec, "selector", "matchLabels")).get(GATEWAY_NAME_LABEL)
        if name is None or (namespace(policy), name) not in gateways:
            continue
        yield fail(
            policy,
            "/spec/selector",
            f"selects the pods of Kubernetes Gateway {name}, where Istio ignores a selector: "
            f"use targetRefs (group {gk.GATEWAY_API}, kind Gateway, name {name})",
        )
