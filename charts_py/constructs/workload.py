"""A service's workload: ServiceAccount, Deployment per version, Service, HPA and PDB."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment, Settings
from charts_py.config.model import Autoscaling, Service, Version
from charts_py.config.source import FieldPath
from charts_py.constructs.metrics_adapter import QUEUE_BACKLOG_METRIC, REQUEST_RATE_METRIC
from charts_py.constructs.objects import emit


def add_workload(scope: Construct, env: Environment, service: Service) -> None:
    """Run one service: its identity, pods per version, a stable Service, scaling bounds."""
    ns = env.spec.namespace
    settings = env.settings(service)
    account = {"automountServiceAccountToken": False}
    emit(scope, kinds.SERVICE_ACCOUNT, service.name, account, namespace=ns)
    emit(scope, kinds.SERVICE, service.name, {"spec": _service_spec(env, service)}, namespace=ns)
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
            limit = env.trace(("policy", "pdbMaxUnavailable"), env.policy.pdb_max_unavailable)
            pdb = {"maxUnavailable": limit, "selector": selector}
            emit(scope, kinds.PDB, name, {"spec": pdb}, namespace=ns)


def port_name(service: Service) -> str:
    """Istio infers the protocol from the port name prefix; it is also the appProtocol."""
    return service.protocol


def _service_spec(env: Environment, service: Service) -> dict[str, Any]:
    at = env.service_path(service)
    port = {
        "name": port_name(service),
        "port": env.trace((*at, "port"), service.port),
        "targetPort": port_name(service),
        "protocol": "TCP",
        "appProtocol": env.trace((*at, "protocol"), service.protocol),
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
                "sidecar.istio.io/proxyCPU": env.trace(("policy", "proxy", "cpu"), proxy.cpu),
                "sidecar.istio.io/proxyMemory": env.trace(
                    ("policy", "proxy", "memory"), proxy.memory
                ),
                "sidecar.istio.io/proxyMemoryLimit": env.trace(
                    ("policy", "proxy", "memory"), proxy.memory
                ),
            },
        },
        "spec": {
            "serviceAccountName": service.name,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(env, service, version, settings)],
        },
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": pod}
    if settings.autoscaling is None:
        # No HPA: the Deployment owns its replica count (with an HPA it must not, or every
        # sync would fight the autoscaler).
        spec["replicas"] = env.trace(("policy", "autoscaling", "min"), env.policy.autoscaling.min)
    return spec


def _container(
    env: Environment, service: Service, version: Version, settings: Settings
) -> dict[str, Any]:
    name = port_name(service)
    at = env.service_path(service)
    port = env.trace((*at, "port"), service.port)
    probe: dict[str, Any]
    if service.protocol == "grpc":
        probe = {"grpc": {"port": port}}
    else:
        probe = {
            "httpGet": {"path": env.trace((*at, "healthPath"), service.health_path), "port": name}
        }
    resources = (*at, "resources")
    cpu = env.trace((*resources, "cpu"), settings.resources.cpu)
    memory = env.trace((*resources, "memory"), settings.resources.memory)
    container: dict[str, Any] = {
        "name": service.name,
        "image": _image(env, service, version),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": name, "containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 6},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if service.env:
        # The item too (not verbatim: a name/value pair of one `env:` key), so a removed
        # variable names its source as well as a changed value does.
        container["env"] = [
            env.trace(
                (*at, "env", k), {"name": k, "value": env.trace((*at, "env", k), v)}, exact=False
            )
            for k, v in sorted(service.env.items())
        ]
    return container


def _image(env: Environment, service: Service, version: Version) -> object:
    """A version's own image, else the service's."""
    at = env.service_path(service)
    if version.image:
        index = service.versions.index(version)
        return env.trace((*at, "versions", index, "image"), version.image)
    return env.trace((*at, "image"), service.image)


def _hpa_spec(
    env: Environment, service: Service, name: str, scaling: Autoscaling
) -> dict[str, Any]:
    at = (*env.service_path(service), "autoscaling")
    metrics: list[dict[str, Any]] = [
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": service.name,
                "target": {
                    "type": "Utilization",
                    "averageUtilization": _percent(env, (*at, "cpu"), scaling.cpu),
                },
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {
                    "type": "Utilization",
                    "averageUtilization": _percent(env, (*at, "memory"), scaling.memory),
                },
            },
        },
    ]
    if service.queue:
        queue = (*env.service_path(service), "queue")
        selector: dict[str, object] = {"queue": env.trace((*queue, "name"), service.queue.name)}
        backlog = service.queue.target_backlog
        target = env.trace((*queue, "targetBacklog"), str(backlog), exact=False)
        metrics.append(_external(QUEUE_BACKLOG_METRIC, selector, target))
    else:
        selector = {
            "destination_workload": name,
            "destination_workload_namespace": env.spec.namespace,
        }
        rate = str(scaling.requests_per_second)
        target = env.trace((*at, "requestsPerSecond"), rate, exact=False)
        metrics.append(_external(REQUEST_RATE_METRIC, selector, target))
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": env.trace((*at, "min"), scaling.min),
        "maxReplicas": env.trace((*at, "max"), scaling.max),
        "metrics": metrics,
    }


def _percent(env: Environment, path: FieldPath, percent: float) -> object:
    """A utilisation target: whole percent (exact unless the file gave a fraction)."""
    return env.trace(path, int(percent), exact=percent == int(percent))


def _external(metric: str, selector: dict[str, Any], average: object) -> dict[str, Any]:
    """An External metric (served by metrics_adapter.RULES) averaged over the target's pods;
    `average` is the target quantity (a string)."""
    return {
        "type": "External",
        "external": {
            "metric": {"name": metric, "selector": {"matchLabels": selector}},
            "target": {"type": "AverageValue", "averageValue": average},
        },
    }
