"""A service's workload: ServiceAccount, Deployment per version, Service, HPA and PDB."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment, Settings
from charts_py.config.model import Autoscaling, Service, Version
from charts_py.constructs.metrics_adapter import QUEUE_BACKLOG_METRIC, REQUEST_RATE_METRIC
from charts_py.constructs.objects import emit


def add_workload(scope: Construct, env: Environment, service: Service) -> None:
    """Run one service: its identity, pods per version, a stable Service, scaling bounds."""
    ns = env.spec.namespace
    settings = env.settings(service)
    account = {"automountServiceAccountToken": False}
    emit(scope, kinds.SERVICE_ACCOUNT, service.name, account, namespace=ns)
    emit(scope, kinds.SERVICE, service.name, {"spec": _service_spec(service)}, namespace=ns)
    for version in service.versions:
        name = naming.workload(service.name, version.name)
        labels = {"app": service.name, "version": version.name}
        spec = _deployment_spec(env, service, version, settings, labels)
        emit(scope, kinds.DEPLOYMENT, name, {"spec": spec}, namespace=ns, labels=labels)
        if settings.autoscaling:
            hpa = _hpa_spec(env, service, name, settings.autoscaling)
            emit(scope, kinds.HPA, name, {"spec": hpa}, namespace=ns)
        if env.policy.pdb_max_unavailable is not None:
            selector = {"matchLabels": labels}
            pdb = {"maxUnavailable": env.policy.pdb_max_unavailable, "selector": selector}
            emit(scope, kinds.PDB, name, {"spec": pdb}, namespace=ns)


def port_name(service: Service) -> str:
    """Istio infers the protocol from the port name prefix; it is also the appProtocol."""
    return service.protocol


def _service_spec(service: Service) -> dict[str, Any]:
    port = {
        "name": port_name(service),
        "port": service.port,
        "targetPort": port_name(service),
        "protocol": "TCP",
        "appProtocol": service.protocol,
    }
    return {"ports": [port], "selector": {"app": service.name}}


def _deployment_spec(
    env: Environment,
    service: Service,
    version: Version,
    settings: Settings,
    labels: dict[str, str],
) -> dict[str, Any]:
    proxy = env.policy.proxy
    pod: dict[str, Any] = {
        "metadata": {
            "labels": labels,
            "annotations": {
                "sidecar.istio.io/proxyCPU": proxy.cpu,
                "sidecar.istio.io/proxyMemory": proxy.memory,
                "sidecar.istio.io/proxyMemoryLimit": proxy.memory,
            },
        },
        "spec": {
            "serviceAccountName": service.name,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(service, version, settings)],
        },
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": pod}
    if settings.autoscaling is None:
        # No HPA: the Deployment owns its replica count (with an HPA it must not, or every
        # sync would fight the autoscaler).
        spec["replicas"] = env.policy.autoscaling.min
    return spec


def _container(service: Service, version: Version, settings: Settings) -> dict[str, Any]:
    name = port_name(service)
    probe: dict[str, Any]
    if service.protocol == "grpc":
        probe = {"grpc": {"port": service.port}}
    else:
        probe = {"httpGet": {"path": service.health_path, "port": name}}
    container: dict[str, Any] = {
        "name": service.name,
        "image": version.image or service.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": name, "containerPort": service.port, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": settings.resources.cpu, "memory": settings.resources.memory},
            "limits": {"memory": settings.resources.memory},
        },
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 6},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if service.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(service.env.items())]
    return container


def _hpa_spec(
    env: Environment, service: Service, name: str, scaling: Autoscaling
) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = [
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": service.name,
                "target": {"type": "Utilization", "averageUtilization": int(scaling.cpu)},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": int(scaling.memory)},
            },
        },
    ]
    if service.queue:
        metrics.append(
            _external(
                QUEUE_BACKLOG_METRIC, {"queue": service.queue.name}, service.queue.target_backlog
            )
        )
    else:
        selector = {
            "destination_workload": name,
            "destination_workload_namespace": env.spec.namespace,
        }
        metrics.append(_external(REQUEST_RATE_METRIC, selector, scaling.requests_per_second))
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": scaling.min,
        "maxReplicas": scaling.max,
        "metrics": metrics,
    }


def _external(metric: str, selector: dict[str, str], average: int) -> dict[str, Any]:
    """An External metric (served by metrics_adapter.RULES) averaged over the target's pods."""
    return {
        "type": "External",
        "external": {
            "metric": {"name": metric, "selector": {"matchLabels": selector}},
            "target": {"type": "AverageValue", "averageValue": str(average)},
        },
    }
