"""Mutual TLS and authorization: one mesh-wide policy, STRICT mode, default deny."""

from __future__ import annotations

from collections.abc import Iterator

from charts_py.jsonpointer import pointer
from charts_py.naming import MESH_ROOT
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, dig, items, mapping, namespace, resolve

WEAK_MODES = ("PERMISSIVE", "DISABLE")


@check("peer-authentication-unique")
def peer_authentication_unique(scope: Scope) -> Iterator[Outcome]:
    first: dict[str, Document] = {}
    for policy in scope.of(gk.PEER_AUTHENTICATION):
        if policy.spec.get("selector"):
            continue
        ns = namespace(policy)
        other = first.setdefault(ns, policy)
        what = "mesh-wide" if ns == MESH_ROOT else f"namespace-wide ({ns})"
        if other is policy:
            yield ok(policy, "/spec", f"the one {what} PeerAuthentication")
        else:
            yield fail(policy, "/spec", f"second {what} PeerAuthentication (first: {other.name})")


@check("mtls-strict")
def mtls_strict(scope: Scope) -> Iterator[Outcome]:
    for policy in scope.of(gk.PEER_AUTHENTICATION):
        mode = dig(policy.spec, "mtls", "mode")
        mesh_wide = namespace(policy) == MESH_ROOT and not policy.spec.get("selector")
        if mode in WEAK_MODES or (mesh_wide and mode in (None, "UNSET")):
            shown = mode or "unset (Istio's default: PERMISSIVE)"
            yield fail(policy, "/spec/mtls/mode", f"mTLS mode {shown} accepts plaintext")
        elif mode == "STRICT":
            yield ok(policy, "/spec/mtls/mode", "STRICT")
        for port, setting in mapping(policy.spec.get("portLevelMtls")).items():
            if isinstance(setting, dict) and setting.get("mode") in WEAK_MODES:
                at = pointer("spec", "portLevelMtls", port, "mode")
                yield fail(policy, at, f"port {port} accepts plaintext ({setting['mode']})")
    for ns in scope.injected_namespaces():
        if scope.mtls_mode(ns.name) is None:
            message = f"no mesh-wide or namespace-wide PeerAuthentication covers {ns.name}"
            yield fail(ns, "/metadata/name", f"{message}: Istio's default is PERMISSIVE")


@check("tls-disable-strict")
def tls_disable_strict(scope: Scope) -> Iterator[Outcome]:
    for rule in scope.of(gk.DESTINATION_RULE):
        host = resolve(str(rule.spec.get("host", "")), namespace(rule))
        if not host.endswith(".svc.cluster.local"):
            continue
        if scope.mtls_mode(host.split(".")[1]) != "STRICT":
            continue
        for at, tls in _tls_settings(rule):
            if tls.get("mode") == "DISABLE":
                message = f"plaintext toward {host}, whose namespace requires STRICT mTLS"
                yield fail(rule, f"{at}/mode", message)


def _tls_settings(rule: Document) -> Iterator[tuple[str, dict[str, object]]]:
    policies = [(pointer("spec", "trafficPolicy"), rule.spec.get("trafficPolicy"))]
    for i, subset in enumerate(items(rule.spec.get("subsets"))):
        if isinstance(subset, dict):
            policies.append(
                (pointer("spec", "subsets", i, "trafficPolicy"), subset.get("trafficPolicy"))
            )
    for at, policy in policies:
        if not isinstance(policy, dict):
            continue
        if isinstance(policy.get("tls"), dict):
            yield f"{at}/tls", policy["tls"]
        for j, port in enumerate(items(policy.get("portLevelSettings"))):
            if isinstance(port, dict) and isinstance(port.get("tls"), dict):
                yield f"{at}/portLevelSettings/{j}/tls", port["tls"]


@check("default-deny")
def default_deny(scope: Scope) -> Iterator[Outcome]:
    for ns in scope.injected_namespaces():
        deny = next(
            (
                p
                for p in scope.of(gk.AUTHORIZATION_POLICY)
                if namespace(p) in (ns.name, MESH_ROOT) and _allow_nothing(p)
            ),
            None,
        )
        if deny is None:
            yield fail(
                ns, "/metadata/name", f"no allow-nothing AuthorizationPolicy covers {ns.name}"
            )
        else:
            message = f"allow-nothing {namespace(deny)}/{deny.name}"
            yield ok(ns, "/metadata/name", message, evidence=deny, at="/spec")


def _allow_nothing(policy: Document) -> bool:
    """An ALLOW policy without selector and rules matches nothing, so it denies the rest."""
    spec = policy.spec
    return (
        spec.get("action", "ALLOW") == "ALLOW"
        and not spec.get("selector")
        and not spec.get("targetRefs")
        and not spec.get("rules")
        and not spec.get("provider")
    )


_TCP_SOURCE = (
    "principals",
    "notPrincipals",
    "ipBlocks",
    "notIpBlocks",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
    "namespaces",
    "notNamespaces",
    "serviceAccounts",
    "notServiceAccounts",
)
"""Source fields a TCP connection carries; the others (request principals) need HTTP."""


@check("deny-http-only")
def deny_http_only(scope: Scope) -> Iterator[Outcome]:
    """Istio's reading (its validation warns likewise): on a TCP port an HTTP attribute
    cannot be evaluated, so a DENY rule made only of them matches every connection."""
    for policy in scope.of(gk.AUTHORIZATION_POLICY):
        if policy.spec.get("action") != "DENY":
            continue
        for i, rule in enumerate(items(policy.spec.get("rules"))):
            if isinstance(rule, dict) and _http_only(rule):
                message = "DENY rule with only HTTP attributes denies all TCP traffic it selects"
                yield fail(policy, pointer("spec", "rules", i), f"{message}: name its ports")


def _http_only(rule: dict[str, object]) -> bool:
    sources = [
        f["source"] for f in items(rule.get("from")) if isinstance(mapping(f).get("source"), dict)
    ]
    operations = [
        t["operation"]
        for t in items(rule.get("to"))
        if isinstance(mapping(t).get("operation"), dict)
    ]
    tcp_from = any(s.get(k) is not None for s in sources for k in _TCP_SOURCE)
    tcp_to = any(o.get(k) is not None for o in operations for k in ("ports", "notPorts"))
    if operations:
        return not tcp_to
    return bool(sources) and not tcp_from


@check("destination-tls-verify")
def destination_tls_verify(scope: Scope) -> Iterator[Outcome]:
    for rule in scope.of(gk.DESTINATION_RULE):
        selected = bool(rule.spec.get("workloadSelector"))
        for at, tls in _tls_settings(rule):
            mode = tls.get("mode")
            if mode not in ("SIMPLE", "MUTUAL") or tls.get("caCertificates"):
                continue
            if tls.get("credentialName") and selected:
                continue
            host = rule.spec.get("host")
            message = (
                f"{mode} TLS toward {host} without caCertificates: the server is checked "
                "only against the proxy's system roots, or not at all with insecureSkipVerify"
            )
            yield fail(rule, at, message)
