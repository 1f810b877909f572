"""Helm values of Istio's charts (`base`, `istiod`, `gateway`, and ambient's `cni` and
`ztunnel`) for one cluster of an environment.

Pure functions of (environment, cluster): what multi-primary needs to agree (meshID, trust
domain) comes from the environment, what must differ (clusterName, network) from the cluster.
Every key set here exists in the pinned charts' values.yaml (tests/unit/test_istio_values.py);
meshConfig follows Istio's MeshConfig API; `profile` names one of the chart's own
`files/profile-<name>.yaml` (read by its templates/zzz_profile.yaml).
"""

from __future__ import annotations

from typing import Any

from charts_py import naming
from charts_py.config.environment import Environment
from charts_py.config.installation import AMBIENT_PROFILE, Gateway, Installation, Istiod
from charts_py.config.model import Cluster, Resources

ACCESS_LOG_FORMAT = {
    "start_time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "response_code": "%RESPONSE_CODE%",
    "response_flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "authority": "%REQ(:AUTHORITY)%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "traceparent": "%REQ(TRACEPARENT)%",
}
"""One JSON object per request: what an on-call engineer filters by, and the trace to open."""


def base(env: Environment) -> dict[str, Any]:
    """The CRDs and the default validating webhook, served by the revision in use."""
    return {"defaultRevision": env.mesh.default_revision}


def istiod(
    env: Environment, cluster: Cluster, revision: Istiod, installed: Installation
) -> dict[str, Any]:
    """One istiod revision; every revision of a cluster gets the same mesh configuration, and
    the ambient profile where the cluster runs ambient (Istio's ambient Helm install)."""
    mesh = env.mesh
    replicas = mesh.istiod_replicas
    pdb = _pdb_min_available(env, replicas.min)
    values: dict[str, Any] = {
        "revision": revision.revision,
        "autoscaleEnabled": True,
        "autoscaleMin": replicas.min,
        "autoscaleMax": replicas.max,
        "resources": {"requests": _requests(mesh.istiod_resources)},
        "global": {
            "meshID": env.mesh_id,
            "multiCluster": {"clusterName": cluster.name},
            "network": cluster.network,
            "proxy": {"resources": _sidecar_resources(env.policy.proxy)},
            "defaultPodDisruptionBudget": {"enabled": pdb is not None},
        },
        "meshConfig": mesh_config(env),
    }
    if pdb is not None:
        values["pdb"] = {"minAvailable": pdb}
    if installed.ambient:
        values["profile"] = AMBIENT_PROFILE
    return values


def cni() -> dict[str, Any]:
    """istio-cni with ambient redirection on (the chart's ambient profile, as Istio's ambient
    Helm install sets it); it talks to the node's ztunnel, to no istiod revision."""
    return {"profile": AMBIENT_PROFILE}


def ztunnel(env: Environment, cluster: Cluster) -> dict[str, Any]:
    """ztunnel of the revision namespaces use (its certificates and configuration come from
    `istiod-<revision>`), with the cluster's identity as istiod has it."""
    return {
        "revision": env.mesh.default_revision,
        "multiCluster": {"clusterName": cluster.name},
        "network": cluster.network,
    }


def mesh_config(env: Environment) -> dict[str, Any]:
    """Trust domain, outbound policy, providers: what the mesh Telemetry and Sidecars rely on."""
    providers: list[dict[str, Any]] = [
        {
            "name": naming.ACCESS_LOG_PROVIDER,
            "envoyFileAccessLog": {
                "path": "/dev/stdout",
                "logFormat": {"labels": dict(ACCESS_LOG_FORMAT)},
            },
        }
    ]
    defaults: dict[str, list[str]] = {
        "metrics": ["prometheus"],
        "accessLogging": [naming.ACCESS_LOG_PROVIDER],
    }
    tracing = env.mesh.tracing
    if tracing is not None:
        endpoint = {"service": tracing.service, "port": tracing.port}
        providers.append({"name": tracing.provider, tracing.provider: endpoint})
        defaults["tracing"] = [tracing.provider]
    return {
        "trustDomain": env.mesh.trust_domain,
        "outboundTrafficPolicy": {"mode": env.policy.outbound_traffic},
        "extensionProviders": providers,
        "defaultProviders": defaults,
    }


def gateway(env: Environment, spec: Gateway) -> dict[str, Any]:
    """Values of one gateway release (config/installation.py), on the revision the
    environment's gateways use. The Service's ports are the chart's own (the model says which)."""
    replicas = env.mesh.gateway_replicas
    values: dict[str, Any] = {
        "revision": env.mesh.gateway_revision,
        "labels": spec.labels,
        "serviceAccount": {"name": spec.service_account},
        "autoscaling": {"minReplicas": replicas.min, "maxReplicas": replicas.max},
        "service": {"type": spec.service_type},
    }
    budget = env.policy.pdb_max_unavailable
    if budget is not None and replicas.min > 1:
        values["podDisruptionBudget"] = {"maxUnavailable": budget}
    if spec.network:
        values["networkGateway"] = spec.network
    return values


def _pdb_min_available(env: Environment, min_replicas: int) -> int | None:
    """istiod's chart expresses the profile's `maxUnavailable` as minAvailable of the minimum
    replicas; a PDB on fewer than two replicas would block every node drain."""
    budget = env.policy.pdb_max_unavailable
    if budget is None or min_replicas < 2:
        return None
    return max(1, min_replicas - budget)


def _requests(resources: Resources) -> dict[str, str]:
    return {"cpu": resources.cpu, "memory": resources.memory}


def _sidecar_resources(resources: Resources) -> dict[str, Any]:
    """The mesh default for proxies; workloads set the same per pod (constructs/workload.py)."""
    return {"requests": _requests(resources), "limits": {"memory": resources.memory}}
