"""Mesh-wide defaults: namespaces, mTLS mode, default-deny, default egress scope, telemetry."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming, provenance
from charts_py.config import ambient as config_ambient
from charts_py.config import teams, waivers
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster
from charts_py.constructs import ambient
from charts_py.constructs.objects import emit

REVISION_LABEL = "istio.io/rev"
"""Which istiod revision injects a namespace's pods."""

# Never let a sync prune or an Application deletion remove a namespace (and every workload
# in it); removing a namespace is an explicit, manual decision.
KEEP = {"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}


class Namespaces(Construct):
    """The application namespaces (injected by the revision in use) and Istio's root namespace.

    The platform creates every application namespace, a team's too: a namespace is
    cluster-scoped, and a team's Argo CD project admits only objects inside its namespaces.
    """

    def __init__(self, scope: Construct, *, env: Environment, cluster: Cluster) -> None:
        super().__init__(scope, "namespaces")
        for ns in env.namespaces:
            if not env.mesh.managed and ns.name not in env.spec.namespace_labels:
                continue  # an adopted mesh's namespace, left as found unless its labels are said
            emit(
                self,
                kinds.NAMESPACE,
                ns.name,
                annotations={**KEEP, **waivers.suppression(env, waivers.ON_NAMESPACE, ns.name)},
                labels=_namespace_labels(env, ns),
            )
        if not env.mesh.managed:
            return  # the control plane and its root namespace are installed out of band
        # Multi-network meshes find each cluster's network from this label. No injection
        # label: istiod and the gateways choose their revision pod by pod (`istio.io/rev` on
        # the gateway pods); a namespace label would override the gateways' own revision,
        # and `istio-injection: disabled` would leave the gateway pods uninjected.
        emit(
            self,
            kinds.NAMESPACE,
            naming.MESH_ROOT,
            annotations=KEEP,
            labels={naming.NETWORK_LABEL: _network(env, cluster)},
        )


def _namespace_labels(env: Environment, ns: teams.Namespace) -> dict[str, Any]:
    """How the namespace's pods join the mesh: the labels as `namespaceLabels` writes them
    (an adopted namespace's, as found); else, ambient: `istio.io/dataplane-mode` and no
    revision label, which would have the webhook inject sidecars into pods ztunnel already
    serves; else sidecars: a revision label when meshops runs the control plane (else none),
    never `istio-injection` as well (with both, Istio's webhooks let the legacy label win and
    a canary move would silently not happen)."""
    if ns.name in env.spec.namespace_labels:
        labels = env.at(("namespaceLabels", ns.name))
        return {key: value.traced() for key, value in labels.entries()}
    if env.ambient(ns):
        return ambient.namespace_labels(env, ns)
    return {REVISION_LABEL: _revision(env)} if env.mesh.managed else {}


def _revision(env: Environment) -> provenance.Traced:
    """The revision namespaces use: `mesh.revision`, else the only revision's name."""
    mesh = env.traced(env.mesh)
    if env.mesh.revision is not None:
        return mesh.revision.traced()
    return mesh.revisions[0].name.traced()


def _network(env: Environment, cluster: Cluster) -> provenance.Traced:
    return env.traced(cluster).network.traced()


class MeshBaseline(Construct):
    """What holds for every workload unless a narrower object says otherwise."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, "baseline")
        policy = env.policy
        root = naming.MESH_ROOT
        if policy.mtls_mode:
            mode = {"mtls": {"mode": env.traced(policy).mtls_mode.traced()}}
            waived = waivers.suppression(env, ("mtls-strict",), None)
            emit(
                self,
                kinds.PEER_AUTHENTICATION,
                "default",
                {"spec": mode},
                namespace=root,
                annotations=waived,
            )
        if policy.telemetry:
            spec = {"spec": _telemetry(env)}
            emit(self, kinds.TELEMETRY, "mesh-default", spec, namespace=root)
        for ns in env.namespaces:
            if ns.switched("authorization", policy.authorization):
                # An ALLOW policy with an empty spec matches nothing, so it denies every request
                # that no other ALLOW policy admits (Istio's documented `allow-nothing`).
                nothing: dict[str, Any] = {"spec": {}}
                emit(self, kinds.AUTHORIZATION_POLICY, "allow-nothing", nothing, namespace=ns.name)
            if env.ambient(ns):
                if config_ambient.has_waypoint(env, ns):
                    ambient.add_waypoint(self, ns.name)
                continue  # no sidecars to scope
            if ns.switched("sidecar", policy.sidecar):
                sidecar = {
                    "egress": [{"hosts": ["./*", f"{root}/*"]}],
                    "outboundTrafficPolicy": {"mode": outbound_mode(env)},
                }
                waived = waivers.suppression(env, ("egress-restricted",), ns.name)
                spec = {"spec": sidecar}
                emit(self, kinds.SIDECAR, "default", spec, namespace=ns.name, annotations=waived)


def outbound_mode(env: Environment) -> object:
    """The policy's outbound traffic mode (every Sidecar says it)."""
    return env.traced(env.policy).outbound_traffic.traced()


def _telemetry(env: Environment) -> dict[str, Any]:
    """Providers by name: each is defined in the mesh configuration (istio_values.py)."""
    access_log: dict[str, Any] = {"providers": [{"name": naming.ACCESS_LOG_PROVIDER}]}
    if env.policy.access_log == "errors":
        access_log["filter"] = {"expression": "response.code >= 400"}
    out: dict[str, Any] = {"accessLogging": [access_log]}
    if env.mesh.tracing is not None:
        provider = env.traced(env.mesh).tracing.provider
        out["tracing"] = [
            {
                "providers": [{"name": provider.traced()}],
                "randomSamplingPercentage": env.traced(env.policy).tracing_sampling.traced(),
            }
        ]
    return out
