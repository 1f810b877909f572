"""A service's workload: ServiceAccount, Deployment per version, Service, HPA and PDB."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import Autoscaling, Service, Version, Workload
from charts_py.config.settings import Settings
from charts_py.config.view import View
from charts_py.constructs import ambient
from charts_py.constructs.metrics_adapter import QUEUE_BACKLOG_METRIC, REQUEST_RATE_METRIC
from charts_py.constructs.objects import emit


def add_workload(scope: Construct, env: Environment, service: Service) -> None:
    """Run one service: its identity, pods per version, a stable Service, scaling bounds."""
    ns = env.namespace_of(service)
    settings = env.settings(service)
    if service.workload is not None:
        _around(scope, env, service, service.workload, settings)
        return
    account = {"automountServiceAccountToken": False}
    emit(scope, kinds.SERVICE_ACCOUNT, service.name, account, namespace=ns)
    _service(scope, env, service)
    for version in service.versions:
        name = naming.workload(service.name, version.name)
        labels = {"app": service.name, "version": version.name, **(version.labels or {})}
        spec = _deployment_spec(env, service, version, settings, labels)
        emit(scope, kinds.DEPLOYMENT, name, {"spec": spec}, namespace=ns, labels=labels)
        if settings.autoscaling:
            hpa = _hpa_spec(env, service, name, settings.autoscaling)
            emit(scope, kinds.HPA, name, {"spec": hpa}, namespace=ns)
        if env.policy.pdb_max_unavailable is not None:
            selector = {"matchLabels": labels}
            limit = env.traced(env.policy).pdb_max_unavailable.traced()
            pdb = {"maxUnavailable": limit, "selector": selector}
            emit(scope, kinds.PDB, name, {"spec": pdb}, namespace=ns)


def _around(
    scope: Construct, env: Environment, service: Service, pods: Workload, settings: Settings
) -> None:
    """Pods someone else deploys: their Service when meshops owns it, an HPA when asked."""
    ns = env.namespace_of(service)
    if pods.service == "meshops":
        _service(scope, env, service)
    if settings.autoscaling and pods.deployment:
        name = pods.deployment
        hpa = _hpa_spec(env, service, name, settings.autoscaling)
        emit(scope, kinds.HPA, name, {"spec": hpa}, namespace=ns)


def _service(scope: Construct, env: Environment, service: Service) -> None:
    """The service's stable Service (in ambient, labelled with its waypoint when it needs one)."""
    spec = {"spec": _service_spec(env, service)}
    labels = ambient.service_labels(env, service)
    emit(
        scope, kinds.SERVICE, service.name, spec, namespace=env.namespace_of(service), labels=labels
    )


def port_name(service: Service) -> str:
    """Istio infers the protocol from the port name prefix; it is also the appProtocol."""
    return service.protocol


def _service_spec(env: Environment, service: Service) -> dict[str, Any]:
    svc = env.traced(service)
    if service.ports is not None:
        return {"ports": [_port(port) for port in svc.ports], "selector": {"app": service.name}}
    port = {
        "name": port_name(service),
        "port": svc.port.traced(),
        "targetPort": port_name(service),
        "protocol": "TCP",
        "appProtocol": svc.protocol.traced(),
    }
    return {"ports": [port], "selector": naming.pods(service)}


def _port(port: View) -> dict[str, Any]:
    """A Service port of `ports`: its target the container port of the same number."""
    target = port.target_port if port.target_port.plain is not None else port.port
    out = {
        "name": port.name.traced(),
        "port": port.port.traced(),
        "targetPort": target.traced(),
        "protocol": "TCP",
    }
    if port.app_protocol.plain is not None:
        out["appProtocol"] = port.app_protocol.traced()
    return out


def _container_ports(service: View) -> list[dict[str, Any]]:
    """The container's ports of `ports` (each its target port)."""
    return [
        {
            "name": port.name.traced(),
            "containerPort": (port.target_port if port.target_port.plain else port.port).traced(),
            "protocol": "TCP",
        }
        for port in service.ports
    ]


def _deployment_spec(
    env: Environment,
    service: Service,
    version: Version,
    settings: Settings,
    labels: dict[str, str],
) -> dict[str, Any]:
    policy = env.traced(env.policy)
    metadata: dict[str, Any] = {"labels": labels}
    if env.namespace_of(service) not in env.ambient_namespaces:  # no sidecar to size
        proxy = policy.proxy
        metadata["annotations"] = {
            "sidecar.istio.io/proxyCPU": proxy.cpu.traced(),
            "sidecar.istio.io/proxyMemory": proxy.memory.traced(),
            "sidecar.istio.io/proxyMemoryLimit": proxy.memory.traced(),
        }
    pod: dict[str, Any] = {
        "metadata": metadata,
        "spec": {
            "serviceAccountName": service.name,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(env, service, version)],
        },
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": pod}
    if settings.autoscaling is None:
        # No HPA: the Deployment owns its replica count (with an HPA it must not, or every
        # sync would fight the autoscaler).
        spec["replicas"] = policy.autoscaling.min.traced()
    return spec


def _container(env: Environment, service: Service, version: Version) -> dict[str, Any]:
    name = port_name(service)
    svc = env.traced(service)
    port = svc.port.traced()
    probe: dict[str, Any]
    if service.ports is not None:
        probe = {"tcpSocket": {"port": service.ports[0].name}}
    elif service.protocol == "grpc":
        probe = {"grpc": {"port": port}}
    else:
        probe = {"httpGet": {"path": svc.health_path.traced(), "port": name}}
    cpu = svc.resources.cpu.traced()
    memory = svc.resources.memory.traced()
    container: dict[str, Any] = {
        "name": service.name,
        "image": _image(env, service, version),
        "imagePullPolicy": "IfNotPresent",
        "ports": (
            [{"name": name, "containerPort": port, "protocol": "TCP"}]
            if service.ports is None
            else _container_ports(svc)
        ),
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
            value.transformed({"name": key, "value": value.traced()})
            for key, value in svc.env.entries()
        ]
    return container


def _image(env: Environment, service: Service, version: Version) -> object:
    """A version's own image, else the service's."""
    svc = env.traced(service)
    if version.image:
        return svc.versions[service.versions.index(version)].image.traced()
    return svc.image.traced()


def _hpa_spec(
    env: Environment, service: Service, name: str, scaling: Autoscaling
) -> dict[str, Any]:
    svc = env.traced(service)
    at = svc.autoscaling
    metrics: list[dict[str, Any]] = [
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": service.name,
                "target": {
                    "type": "Utilization",
                    "averageUtilization": _percent(at.cpu),
                },
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {
                    "type": "Utilization",
                    "averageUtilization": _percent(at.memory),
                },
            },
        },
    ]
    if service.queue:
        queue = svc.queue
        selector: dict[str, object] = {"queue": queue.name.traced()}
        target = queue.target_backlog.transformed(str(service.queue.target_backlog))
        metrics.append(_external(QUEUE_BACKLOG_METRIC, selector, target))
    else:
        selector = {
            "destination_workload": name,
            "destination_workload_namespace": env.namespace_of(service),
        }
        target = at.requests_per_second.transformed(str(scaling.requests_per_second))
        metrics.append(_external(REQUEST_RATE_METRIC, selector, target))
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": at.min.traced(),
        "maxReplicas": at.max.traced(),
        "metrics": metrics,
    }


def _percent(percent: View) -> object:
    """A utilisation target: whole percent (exact unless the file gave a fraction)."""
    whole = int(percent.plain)
    return percent.transformed(whole, exact=percent.plain == whole)


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
