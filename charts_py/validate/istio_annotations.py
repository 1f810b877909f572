"""Istio's annotation names, for the `istio-annotation` rule (what IST0108 knows).

Taken from `annotation/annotations.yaml` of the `istio.io/api` module that
scripts/istioctl/go.sum pins (v1.31.0-rc.0.0.20260824154656-b943409680a7), so meshops and the
istioctl it builds agree; tests/integration/test_istioctl.py re-reads that file and fails
when this list falls behind a version bump.
"""

from __future__ import annotations

API_VERSION = "v1.31.0-rc.0.0.20260824154656-b943409680a7"
"""The istio.io/api module version the names come from."""

ANNOTATIONS = frozenset(
    {
        "alpha.istio.io/canonical-serviceaccounts",
        "alpha.istio.io/kubernetes-serviceaccounts",
        "ambient.istio.io/bypass-inbound-capture",
        "ambient.istio.io/dns-capture",
        "ambient.istio.io/redirection",
        "ambient.istio.io/waypoint-inbound-binding",
        "galley.istio.io/analyze-suppress",
        "gateway.istio.io/controller-version",
        "gateway.istio.io/name-override",
        "gateway.istio.io/service-account",
        "inject.istio.io/templates",
        "istio.io/autoRegistrationGroup",
        "istio.io/connectedAt",
        "istio.io/disconnectedAt",
        "istio.io/dry-run",
        "istio.io/reroute-virtual-interfaces",
        "istio.io/rev",
        "istio.io/use-waypoint-canary-weight",
        "istio.io/workloadController",
        "kubernetes.io/ingress.class",
        "networking.istio.io/exportTo",
        "networking.istio.io/service-type",
        "networking.istio.io/traffic-distribution",
        "prometheus.istio.io/merge-metrics",
        "proxy.istio.io/config",
        "proxy.istio.io/overrides",
        "readiness.status.sidecar.istio.io/applicationPorts",
        "readiness.status.sidecar.istio.io/failureThreshold",
        "readiness.status.sidecar.istio.io/initialDelaySeconds",
        "readiness.status.sidecar.istio.io/periodSeconds",
        "sidecar.istio.io/agentLogLevel",
        "sidecar.istio.io/bootstrapOverride",
        "sidecar.istio.io/componentLogLevel",
        "sidecar.istio.io/discoveryAddress",
        "sidecar.istio.io/extraStatTags",
        "sidecar.istio.io/inject",
        "sidecar.istio.io/interceptionMode",
        "sidecar.istio.io/logLevel",
        "sidecar.istio.io/nativeSidecar",
        "sidecar.istio.io/proxyCPU",
        "sidecar.istio.io/proxyCPULimit",
        "sidecar.istio.io/proxyImage",
        "sidecar.istio.io/proxyImageType",
        "sidecar.istio.io/proxyMemory",
        "sidecar.istio.io/proxyMemoryLimit",
        "sidecar.istio.io/rewriteAppHTTPProbers",
        "sidecar.istio.io/statsCompression",
        "sidecar.istio.io/statsEvictionInterval",
        "sidecar.istio.io/statsFlushInterval",
        "sidecar.istio.io/statsHistogramBins",
        "sidecar.istio.io/statsHistogramBuckets",
        "sidecar.istio.io/statsInclusionPrefixes",
        "sidecar.istio.io/statsInclusionRegexps",
        "sidecar.istio.io/statsInclusionSuffixes",
        "sidecar.istio.io/status",
        "sidecar.istio.io/userVolume",
        "sidecar.istio.io/userVolumeMount",
        "status.sidecar.istio.io/port",
        "topology.istio.io/controlPlaneClusters",
        "traffic.istio.io/nodeSelector",
        "traffic.sidecar.istio.io/excludeInboundPorts",
        "traffic.sidecar.istio.io/excludeInterfaces",
        "traffic.sidecar.istio.io/excludeOutboundIPRanges",
        "traffic.sidecar.istio.io/excludeOutboundPorts",
        "traffic.sidecar.istio.io/includeInboundPorts",
        "traffic.sidecar.istio.io/includeOutboundIPRanges",
        "traffic.sidecar.istio.io/includeOutboundPorts",
        "traffic.sidecar.istio.io/kubevirtInterfaces",
    }
)
