"""Per-profile defaults (dev loose, staging close to prod, prod strict).

Written in the same camelCase shape as an environment file's `policy:` block, which is
deep-merged over them. The table follows REFERENCE.md's profile table, with one deliberate
reading: Istio's `attempts` counts retries after the first try, so "3 x 3s within 10s" is
`attempts: 2, perTryTimeout: 3s` (3 tries x 3s = 9s <= 10s route timeout).
"""

from __future__ import annotations

from typing import Any, Literal

from charts_py.config import releases

Profile = Literal["dev", "staging", "prod", "none"]
"""What an environment's `profile:` may say; `none` adds nothing to the mesh layer (for
adopting a mesh as it runs). Here, not in model.py, so that the command line can offer the
names without importing pydantic (cli/adopt.py's `--profile`)."""

_OUTLIER = {
    "consecutive5xxErrors": 5,
    "interval": "10s",
    "baseEjectionTime": "30s",
    "maxEjectionPercent": 50,
}

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        "mtlsMode": "PERMISSIVE",
        "authorization": False,
        "outboundTraffic": "ALLOW_ANY",
        "egressGateway": False,
        "loadBalancer": "ROUND_ROBIN",
        "outlierDetection": None,
        "connectionPool": {
            "maxConnections": 100,
            "http1MaxPendingRequests": 100,
            "http2MaxRequests": 1000,
        },
        "timeout": "30s",
        "retries": {"attempts": 2, "perTryTimeout": "10s"},
        "faultInjection": "allowed",
        "tracingSampling": 100.0,
        "accessLog": "all",
        "autoscaling": {"min": 1, "max": 3},
        "pdbMaxUnavailable": None,
        "resources": {"cpu": "100m", "memory": "128Mi"},
        "proxy": {"cpu": "50m", "memory": "64Mi"},
        "alerts": {"errorRatio": 0.1, "p99LatencyMs": 2000},
    },
    "staging": {
        "mtlsMode": "STRICT",
        "authorization": True,
        "outboundTraffic": "REGISTRY_ONLY",
        "egressGateway": False,
        "loadBalancer": "LEAST_REQUEST",
        "outlierDetection": _OUTLIER,
        "connectionPool": {
            "maxConnections": 200,
            "http1MaxPendingRequests": 100,
            "http2MaxRequests": 1000,
        },
        "timeout": "10s",
        "retries": {"attempts": 2, "perTryTimeout": "3s"},
        "faultInjection": "header-gated",
        "tracingSampling": 10.0,
        "accessLog": "all",
        "autoscaling": {"min": 2, "max": 6},
        "pdbMaxUnavailable": 1,
        "resources": {"cpu": "200m", "memory": "256Mi"},
        "proxy": {"cpu": "100m", "memory": "128Mi"},
        "alerts": {"errorRatio": 0.05, "p99LatencyMs": 1000},
    },
    "prod": {
        "mtlsMode": "STRICT",
        "authorization": True,
        "outboundTraffic": "REGISTRY_ONLY",
        "egressGateway": True,
        "loadBalancer": "LEAST_REQUEST",
        "outlierDetection": _OUTLIER,
        "connectionPool": {
            "maxConnections": 500,
            "http1MaxPendingRequests": 200,
            "http2MaxRequests": 2000,
        },
        "timeout": "10s",
        "retries": {"attempts": 2, "perTryTimeout": "3s"},
        "faultInjection": "forbidden",
        "tracingSampling": 1.0,
        "accessLog": "errors",
        "autoscaling": {"min": 3, "max": 12},
        "pdbMaxUnavailable": 1,
        "resources": {"cpu": "250m", "memory": "256Mi"},
        "proxy": {"cpu": "100m", "memory": "128Mi"},
        "alerts": {"errorRatio": 0.02, "p99LatencyMs": 500},
    },
    # Adds nothing to the mesh layer, for adopting a mesh as it runs (`meshops import`): no
    # PeerAuthentication, Telemetry, allow-nothing, Sidecars, traffic policy, route timeouts or
    # retries, alerts. The sizes below apply only to workloads meshops itself deploys.
    "none": {
        "mtlsMode": False,
        "authorization": False,
        "sidecar": False,
        "telemetry": False,
        "outboundTraffic": "ALLOW_ANY",
        "egressGateway": False,
        "loadBalancer": False,
        "outlierDetection": False,
        "connectionPool": False,
        "timeout": False,
        "retries": False,
        "faultInjection": "allowed",
        "tracingSampling": 1.0,
        "accessLog": "errors",
        "autoscaling": {"min": 1, "max": 3},
        "pdbMaxUnavailable": None,
        "resources": {"cpu": "100m", "memory": "128Mi"},
        "proxy": {"cpu": "100m", "memory": "128Mi"},
        "alerts": False,
    },
}


_TRACING = {
    "provider": "opentelemetry",
    "endpoint": "opentelemetry-collector.observability.svc.cluster.local:4317",
}


def _mesh(istiod: dict[str, str], replicas: tuple[int, int], gateways: tuple[int, int]) -> Any:
    return {
        "revisions": [{"name": releases.CURRENT.revision, "version": releases.CURRENT.version}],
        "trustDomain": "cluster.local",
        "tracing": _TRACING,
        "istiodResources": istiod,
        "istiodReplicas": {"min": replicas[0], "max": replicas[1]},
        "gatewayReplicas": {"min": gateways[0], "max": gateways[1]},
    }


MESH: dict[str, dict[str, Any]] = {
    "dev": _mesh({"cpu": "100m", "memory": "256Mi"}, (1, 2), (1, 2)),
    "staging": _mesh({"cpu": "250m", "memory": "512Mi"}, (2, 4), (2, 4)),
    "prod": _mesh({"cpu": "500m", "memory": "2Gi"}, (3, 8), (3, 10)),
    "none": _mesh({"cpu": "500m", "memory": "2Gi"}, (1, 5), (1, 5)),
}
"""The control plane per profile (the `mesh:` block): istiod and gateways sized and spread
like the workloads (one replica in dev, two in staging, three in prod), the current release."""


def merged(profile: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The profile's policy with an environment's `policy:` overrides deep-merged on top."""
    return _merge(PROFILES[profile], overrides)


def merged_mesh(profile: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The profile's control plane with an environment's `mesh:` deep-merged on top."""
    return _merge(MESH[profile], overrides)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value)
        else:
            out[key] = value
    return out
