"""Istio objects an environment file writes in Istio's terms, and its extensions.

A service's entries (`authorizationPolicies`, `peerAuthentications`, `requestAuthentications`,
`telemetries`, `extensions`) select that service's pods unless they select or target on their
own; the top level's are namespace-wide, and add the environment's own `gateways`,
`virtualServices`, `destinationRules`, and Gateway API's `gatewayApiGateways`, `httpRoutes`,
`grpcRoutes`, `tcpRoutes`, `tlsRoutes` and `referenceGrants`. Every field is rendered as
written (istio_spec.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import ambient as config_ambient
from charts_py.config import istio_checks
from charts_py.config.environment import Environment
from charts_py.config.model import Service
from charts_py.config.view import View
from charts_py.constructs import ambient, istio_spec
from charts_py.constructs.objects import emit

ATTACHABLE = (
    (kinds.AUTHORIZATION_POLICY, "authorizationPolicies"),
    (kinds.PEER_AUTHENTICATION, "peerAuthentications"),
    (kinds.REQUEST_AUTHENTICATION, "requestAuthentications"),
    (kinds.TELEMETRY, "telemetries"),
)
"""Kinds a service and the namespace both hold, by environment-file key."""

NAMESPACE_ONLY = (
    (kinds.GATEWAY, "gateways"),
    (kinds.VIRTUAL_SERVICE, "virtualServices"),
    (kinds.DESTINATION_RULE, "destinationRules"),
    (kinds.SERVICE_ENTRY, "serviceEntries"),
    (kinds.SIDECAR, "sidecars"),
    *istio_checks.GATEWAY_API_LISTS,
)
"""Kinds only the top level holds: not owned by one service (Gateway API's as written)."""


def add_named(
    scope: Construct,
    env: Environment,
    owner: View,
    labels: dict[str, str],
    ns: str,
    ambient_service: Service | None = None,
) -> None:
    """The entries of `owner` in namespace `ns` (a service: `labels` select its pods; the
    top level: empty). A service in an ambient namespace (`ambient_service`) has what only its
    waypoint enforces attached there (`targetRefs` its Service) instead of selecting pods."""
    for kind, key in ATTACHABLE:
        for entry in owner.step(key):
            spec = istio_spec.spec_of(entry)
            if ambient_service is not None and _on_waypoint(env, kind, entry, ambient_service):
                spec = ambient.targeted(spec, ambient_service)
            elif labels:
                spec = istio_spec.attached(kind.kind, spec, labels)
            emit(scope, kind, entry.name.plain, {"spec": spec}, namespace=ns)
    for extension in owner.step("extensions"):
        _extension(scope, extension, labels, ns, ambient_service)


def _on_waypoint(env: Environment, kind: kinds.Kind, entry: View, service: Service) -> bool:
    """Whether an entry of an ambient service is the waypoint's to enforce: an L7
    AuthorizationPolicy (ztunnel would turn it into a DENY), JWT validation, and the
    telemetry of a service behind its waypoint (ztunnel has no L7 telemetry)."""
    if kind is kinds.AUTHORIZATION_POLICY:
        return config_ambient.l7_policy(config_ambient.dumped(entry.plain))
    if kind is kinds.REQUEST_AUTHENTICATION:
        return True
    return kind is kinds.TELEMETRY and config_ambient.behind_waypoint(env, service)


def _extension(
    scope: Construct, entry: View, labels: dict[str, str], ns: str, service: Service | None
) -> None:
    kind = istio_checks.extension_kind(entry.plain)
    spec = istio_spec.body(entry.spec)
    if service is not None and kind is kinds.WASM_PLUGIN:
        spec = ambient.targeted(spec, service)  # Envoy filters run in its waypoint
    elif labels:
        spec = istio_spec.attached(kind.kind, spec, labels)
    own = entry.plain
    emit(
        scope,
        kind,
        entry.name.plain,
        {"spec": spec},
        namespace=ns,
        labels=own.labels,
        annotations=own.annotations,
    )


class NamespaceObjects(Construct):
    """The namespace-wide Istio objects and extensions: the top level's in the environment's
    namespace, each `namespaces:` entry's in its own."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, "namespace-objects")
        for ns, owner in _blocks(env):
            for kind, key in NAMESPACE_ONLY:
                for entry in owner.step(key):
                    spec = istio_spec.spec_of(entry)
                    if kind is kinds.GATEWAY and "selector" not in spec:
                        spec = {"selector": dict(naming.INGRESS_GATEWAY_SELECTOR), **spec}
                    emit(self, kind, entry.name.plain, {"spec": spec}, namespace=ns)
            add_named(self, env, owner, {}, ns)


def _blocks(env: Environment) -> Iterator[tuple[str, View]]:
    """(namespace, the view of its namespace-wide lists): the platform's top level, then
    every namespace an entry of `namespaces:` (the platform's or a team's) describes."""
    yield env.spec.namespace, env.at(())
    for ns in env.namespaces:
        if ns.spec is not None:
            yield ns.name, env.block(ns)


def has_objects(env: Environment) -> bool:
    """Whether any namespace writes an Istio object or extension (a chart is then made)."""
    keys = [key for _, key in (*NAMESPACE_ONLY, *ATTACHABLE)] + ["extensions"]
    return any(owner.step(key).plain for _, owner in _blocks(env) for key in keys)
