"""Mesh-wide defaults: namespaces, mTLS mode, default-deny, default egress scope, telemetry."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster
from charts_py.constructs.objects import emit

# Never let a sync prune or an Application deletion remove a namespace (and every workload
# in it); removing a namespace is an explicit, manual decision.
KEEP = {"argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}


class Namespaces(Construct):
    """The application namespace (sidecar injection on) and Istio's root namespace."""

    def __init__(self, scope: Construct, *, env: Environment, cluster: Cluster) -> None:
        super().__init__(scope, "namespaces")
        emit(
            self,
            kinds.NAMESPACE,
            env.spec.namespace,
            annotations=KEEP,
            labels={"istio-injection": "enabled"},
        )
        # Multi-network meshes find each cluster's network from this label.
        emit(
            self,
            kinds.NAMESPACE,
            naming.MESH_ROOT,
            annotations=KEEP,
            labels={"istio-injection": "disabled", "topology.istio.io/network": cluster.network},
        )


class MeshBaseline(Construct):
    """What holds for every workload unless a narrower object says otherwise."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, "baseline")
        policy = env.policy
        root, ns = naming.MESH_ROOT, env.spec.namespace
        emit(
            self,
            kinds.PEER_AUTHENTICATION,
            "default",
            {"spec": {"mtls": {"mode": policy.mtls_mode}}},
            namespace=root,
        )
        emit(self, kinds.TELEMETRY, "mesh-default", {"spec": _telemetry(env)}, namespace=root)
        if policy.authorization:
            # An ALLOW policy with an empty spec matches nothing, so it denies every request
            # that no other ALLOW policy admits (Istio's documented `allow-nothing`).
            emit(self, kinds.AUTHORIZATION_POLICY, "allow-nothing", {"spec": {}}, namespace=ns)
        sidecar = {
            "egress": [{"hosts": ["./*", f"{root}/*"]}],
            "outboundTrafficPolicy": {"mode": policy.outbound_traffic},
        }
        emit(self, kinds.SIDECAR, "default", {"spec": sidecar}, namespace=ns)


def _telemetry(env: Environment) -> dict[str, Any]:
    access_log: dict[str, Any] = {"providers": [{"name": "envoy"}]}
    if env.policy.access_log == "errors":
        access_log["filter"] = {"expression": "response.code >= 400"}
    return {
        "tracing": [{"randomSamplingPercentage": env.policy.tracing_sampling}],
        "accessLogging": [access_log],
    }
