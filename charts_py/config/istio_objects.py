"""Istio objects an environment file describes in Istio's own terms, and the extension point.

Each entry is an object's `name` plus the fields of its kind's `spec`, typed exactly as
Istio's CRD types them (config/istio_api.py, generated): a user looks the fields up in
Istio's reference. Where the entry sits says what the construct fills in: under a service,
the selector of that service's pods (unless the entry sets its own `selector`, `targetRef`
or `targetRefs`); at the top level, nothing (a namespace-wide object).

`extensions:` carries objects no typed field covers (EnvoyFilter, WasmPlugin, any kind with a
packaged schema), checked against that schema when the file is loaded (config/istio_checks.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from charts_py.config import istio_api as istio

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ObjectName = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]
"""A Kubernetes object name (DNS subdomain): Istio's samples name objects freely."""

NAMED_FIELD = "name"
"""The one field of an entry that is not its kind's spec."""


class AuthorizationPolicy(istio.AuthorizationPolicySpec):
    """An AuthorizationPolicy: `name`, then Istio's spec (`action`, `provider`, `rules`:
    `from.source`, `to.operation`, `when`; `selector`, `targetRef(s)`)."""

    name: ObjectName


class PeerAuthentication(istio.PeerAuthenticationSpec):
    """A PeerAuthentication: `name`, then Istio's spec (`mtls.mode`, `portLevelMtls`)."""

    name: ObjectName


class RequestAuthentication(istio.RequestAuthenticationSpec):
    """A RequestAuthentication: `name`, then Istio's spec (`jwtRules`)."""

    name: ObjectName


class Telemetry(istio.TelemetrySpec):
    """A Telemetry: `name`, then Istio's spec (`tracing`, `metrics`, `accessLogging`)."""

    name: ObjectName


class Gateway(istio.GatewaySpec):
    """A Gateway in the environment's namespace: `name`, then Istio's spec (`servers` with
    their `port`, `hosts` and `tls`: SIMPLE, MUTUAL, PASSTHROUGH, several certificates);
    `selector` defaults to the ingress gateway's pods (`istio: ingressgateway`)."""

    name: ObjectName


class VirtualService(istio.VirtualServiceSpec):
    """A VirtualService not owned by one service (bound to a gateway, for an external host,
    a delegate): `name`, then Istio's spec, as written."""

    name: ObjectName


class DestinationRule(istio.DestinationRuleSpec):
    """A DestinationRule not owned by one service: `name`, then Istio's spec, as written."""

    name: ObjectName


class ServiceEntry(istio.ServiceEntrySpec):
    """A ServiceEntry as written (`name`, then Istio's spec): the general form of
    `externalServices`, which fills in `location`, `resolution` and a DestinationRule."""

    name: ObjectName


class Sidecar(istio.SidecarSpec):
    """A Sidecar as written: `name`, then Istio's spec (`egress`, `ingress`,
    `outboundTrafficPolicy`, `workloadSelector`)."""

    name: ObjectName


class Extension(BaseModel):
    """An object of a kind no typed field covers, emitted as written into the environment's
    namespace and checked against its kind's packaged schema (charts_py/crds/)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    api_version: str = Field(alias="apiVersion", pattern=r"^([a-z0-9.-]+/)?v[0-9]+[a-z0-9]*$")
    kind: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    """Kubernetes' rule for a custom kind (a DNS-1035 label once lower-cased): Mixer's
    `config.istio.io` kinds (`rule`, `handler`, `instance`) start lower-case."""
    name: ObjectName
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    """The object's own labels and annotations: those Istio reads (`istio.io/dry-run` on a
    policy, `networking.istio.io/service-type` on a Gateway), which no typed field says."""
    spec: dict[str, Any]
    plural: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    """The kind's resource name (`envoyfilters`), which the drift job's Role and Argo CD's
    project need: default, the packaged schema's, else Kubernetes' own guess from the kind
    (`meshops import` writes the one the API server's discovery or the source's CRD gives)."""


SELECTORS: dict[str, tuple[str, str]] = {
    "EnvoyFilter": ("workloadSelector", "labels"),
    "WasmPlugin": ("selector", "matchLabels"),
    "AuthorizationPolicy": ("selector", "matchLabels"),
    "PeerAuthentication": ("selector", "matchLabels"),
    "RequestAuthentication": ("selector", "matchLabels"),
    "Telemetry": ("selector", "matchLabels"),
    "Sidecar": ("workloadSelector", "labels"),
}
"""How each kind selects pods: (field, labels key). An object attached to a service selects
that service's pods there, unless it selects or targets on its own."""

TARGETS = ("selector", "workloadSelector", "targetRef", "targetRefs")
"""Fields by which an object already says which workloads it applies to."""
