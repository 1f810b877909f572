"""The kinds validate's rules look up, each by (API group, kind), never by kind name alone.

A kind name is not an identity: Gateway API's `Gateway` (gateway.networking.k8s.io) is not
Istio's `Gateway` (networking.istio.io), and a CRD of any group may reuse `Service`. Every
version of a group is the same kind (networking.istio.io/v1alpha3 VirtualService is the v1
VirtualService): the version is not part of the key.
"""

from __future__ import annotations

from typing import NamedTuple


class GroupKind(NamedTuple):
    """An API group (`""` for the legacy core group) and a kind."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


ISTIO_NETWORKING = "networking.istio.io"
ISTIO_SECURITY = "security.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"

NAMESPACE = GroupKind("", "Namespace")
SERVICE = GroupKind("", "Service")
POD = GroupKind("", "Pod")
CONFIG_MAP = GroupKind("", "ConfigMap")
SECRET = GroupKind("", "Secret")
DEPLOYMENT = GroupKind("apps", "Deployment")
STATEFUL_SET = GroupKind("apps", "StatefulSet")
DAEMON_SET = GroupKind("apps", "DaemonSet")
REPLICA_SET = GroupKind("apps", "ReplicaSet")
JOB = GroupKind("batch", "Job")
CRON_JOB = GroupKind("batch", "CronJob")
HPA = GroupKind("autoscaling", "HorizontalPodAutoscaler")
PDB = GroupKind("policy", "PodDisruptionBudget")

VIRTUAL_SERVICE = GroupKind(ISTIO_NETWORKING, "VirtualService")
DESTINATION_RULE = GroupKind(ISTIO_NETWORKING, "DestinationRule")
GATEWAY = GroupKind(ISTIO_NETWORKING, "Gateway")
SERVICE_ENTRY = GroupKind(ISTIO_NETWORKING, "ServiceEntry")
SIDECAR = GroupKind(ISTIO_NETWORKING, "Sidecar")
ENVOY_FILTER = GroupKind(ISTIO_NETWORKING, "EnvoyFilter")
WORKLOAD_ENTRY = GroupKind(ISTIO_NETWORKING, "WorkloadEntry")
PEER_AUTHENTICATION = GroupKind(ISTIO_SECURITY, "PeerAuthentication")
AUTHORIZATION_POLICY = GroupKind(ISTIO_SECURITY, "AuthorizationPolicy")
REQUEST_AUTHENTICATION = GroupKind(ISTIO_SECURITY, "RequestAuthentication")
TELEMETRY = GroupKind("telemetry.istio.io", "Telemetry")
WASM_PLUGIN = GroupKind("extensions.istio.io", "WasmPlugin")

K8S_GATEWAY = GroupKind(GATEWAY_API, "Gateway")
"""Gateway API's Gateway: Istio deploys and programs it (gatewayClassName istio)."""
HTTP_ROUTE = GroupKind(GATEWAY_API, "HTTPRoute")
GRPC_ROUTE = GroupKind(GATEWAY_API, "GRPCRoute")
TLS_ROUTE = GroupKind(GATEWAY_API, "TLSRoute")

PROMETHEUS_RULE = GroupKind("monitoring.coreos.com", "PrometheusRule")
APPLICATION = GroupKind("argoproj.io", "Application")
APPLICATION_SET = GroupKind("argoproj.io", "ApplicationSet")
APP_PROJECT = GroupKind("argoproj.io", "AppProject")

WORKLOADS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, REPLICA_SET)
"""Controllers that keep pods running (what a Service's selector is meant to find)."""
POD_TEMPLATES = (*WORKLOADS, JOB, CRON_JOB, POD)
"""Kinds that define pods: a pod template (a CronJob's under its jobTemplate), or a Pod."""
