"""The typed environment model: what one `environments/<env>.yaml` may say.

Every model forbids unknown keys (a typo must fail, not vanish) and is frozen (inputs are
never mutated downstream). Field names are camelCase in YAML, like Kubernetes manifests.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from charts_py import contract, jsonpointer
from charts_py.config import gateway_api_objects as gwapi
from charts_py.config import istio_api as istio
from charts_py.config import istio_objects as objects
from charts_py.config.profiles import Profile

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
DURATION = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$"

Name = Annotated[str, Field(pattern=DNS_LABEL, max_length=52)]
ServiceRef = Annotated[
    str, Field(pattern=r"^([a-z]([-a-z0-9]{0,61}[a-z0-9])?/)?[a-z]([-a-z0-9]{0,50}[a-z0-9])?$")
]
"""A service: `name` in the caller's own namespace, `<namespace>/<name>` in another."""
Duration = Annotated[str, Field(pattern=DURATION)]
Quantity = Annotated[str, Field(pattern=QUANTITY)]
Percent = Annotated[float, Field(ge=0, le=100)]
Off = Literal[False]
"""`false`: switch off what a profile would add here (no field, no object)."""
Dataplane = Literal["sidecar", "ambient"]
"""How a namespace's pods join the mesh: an injected Envoy sidecar each (`istio.io/rev`), or
ztunnel on the node plus a waypoint where a service needs L7 (`istio.io/dataplane-mode:
ambient`; docs/ambient.md)."""


def seconds(duration: str) -> float:
    """Seconds in an Istio/Kubernetes duration string such as `250ms` or `3s`."""
    number, unit = re.fullmatch(r"([0-9.]+)(ms|s|m|h)", duration).groups()  # type: ignore[union-attr]
    return float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


class Model(BaseModel):
    """Base: camelCase aliases, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Retries(Model):
    """Istio HTTPRetry: `attempts` retries after the first try, each bounded by perTryTimeout."""

    attempts: Annotated[int, Field(ge=0, le=10)]
    per_try_timeout: Duration
    retry_on: str = "5xx,reset,connect-failure,refused-stream"


class OutlierDetection(Model):
    """Eject a host after consecutive 5xx errors (Istio outlierDetection)."""

    consecutive_5xx_errors: Annotated[int, Field(ge=1, alias="consecutive5xxErrors")]
    interval: Duration
    base_ejection_time: Duration
    max_ejection_percent: Annotated[int, Field(ge=1, le=100)]


class ConnectionPool(Model):
    """Caps on connections and queued requests per upstream host."""

    max_connections: Annotated[int, Field(ge=1)]
    http1_max_pending_requests: Annotated[int, Field(ge=1, alias="http1MaxPendingRequests")]
    http2_max_requests: Annotated[int, Field(ge=1, alias="http2MaxRequests")]


class Autoscaling(Model):
    """HPA bounds and targets: CPU and memory utilisation, requests per second per pod."""

    min: Annotated[int, Field(ge=1)]
    max: Annotated[int, Field(ge=1)]
    cpu: Percent = 70
    memory: Percent = 80
    requests_per_second: Annotated[int, Field(ge=1)] = 100

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Resources(Model):
    """Container requests; memory is also the limit (no CPU limit: throttling hurts latency)."""

    cpu: Quantity
    memory: Quantity


class Alerts(Model):
    """Alert thresholds: ratio of 5xx responses and p99 latency, over 5 minutes."""

    error_ratio: Annotated[float, Field(gt=0, lt=1)]
    p99_latency_ms: Annotated[int, Field(ge=1)]


LoadBalancer = Literal["ROUND_ROBIN", "LEAST_REQUEST", "RANDOM"]


class Policy(Model):
    """Mesh-wide behaviour. Each profile supplies all of it; an environment may override parts."""

    mtls_mode: Literal["STRICT", "PERMISSIVE"] | Off
    """`false`: no mesh-wide PeerAuthentication."""
    authorization: bool
    """The `allow-nothing` AuthorizationPolicy per namespace and an ALLOW policy per service."""
    sidecar: bool = True
    """A default Sidecar per namespace and one per service (egress scoping)."""
    telemetry: bool = True
    """The mesh-wide Telemetry (access logs, tracing)."""
    dataplane: Dataplane = "sidecar"
    """Every namespace's data plane unless its own `dataplane` says otherwise."""
    outbound_traffic: Literal["ALLOW_ANY", "REGISTRY_ONLY"]
    egress_gateway: bool
    load_balancer: LoadBalancer | Off
    outlier_detection: OutlierDetection | Off | None
    connection_pool: ConnectionPool | Off
    timeout: Duration | Off
    retries: Retries | Off
    fault_injection: Literal["allowed", "header-gated", "forbidden"]
    tracing_sampling: Percent
    access_log: Literal["all", "errors"]
    autoscaling: Autoscaling
    pdb_max_unavailable: Annotated[int, Field(ge=1)] | None
    resources: Resources
    proxy: Resources
    alerts: Alerts | Off


REVISION = r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$"
ENDPOINT = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$"


class MeshRevision(Model):
    """One istiod of the mesh: its revision (the `istio.io/rev` value) and its Istio release."""

    name: str = Field(pattern=REVISION)
    version: str = Field(min_length=1)
    """A release of charts_py/config/releases.py (checked with the whole file)."""


class Tracing(Model):
    """Where proxies send spans: an extension provider of the mesh configuration."""

    provider: Literal["opentelemetry", "zipkin"]
    endpoint: str = Field(pattern=ENDPOINT)
    """`host:port` of the collector (OTLP/gRPC for opentelemetry)."""

    @property
    def service(self) -> str:
        return self.endpoint.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.endpoint.rpartition(":")[2])


class Replicas(Model):
    """HPA bounds of a control-plane Deployment (istiod, a gateway)."""

    min: Annotated[int, Field(ge=1)]
    max: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _bounds(self) -> Replicas:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Mesh(Model):
    """The Istio control plane of every cluster of the environment. Each profile supplies all
    of it (charts_py/config/profiles.py); an environment's `mesh:` overrides parts."""

    revisions: list[MeshRevision] = Field(min_length=1)
    revision: str | None = None
    """The revision namespaces use; may be omitted with a single revision."""
    gateway_revision_: str | None = Field(default=None, alias="gatewayRevision")
    """The revision the gateways use (default: `revision`): they may move after the
    namespaces, as the last step of a canary upgrade."""
    trust_domain: str = Field(min_length=1)
    mesh_id: str | None = Field(default=None, pattern=DNS_LABEL, alias="meshID")
    """Shared by every cluster of the environment; default: the environment's name."""
    tracing: Tracing | None
    istiod_resources: Resources
    istiod_replicas: Replicas
    gateway_replicas: Replicas
    managed: bool = True
    """`false`: the control plane is installed out of band (an adopted mesh): meshops renders
    no istiod, gateways or mesh configuration, nor the `istio-system` Namespace, and labels
    application namespaces only as `namespaceLabels` says."""

    @property
    def default_revision(self) -> str:
        """The revision namespaces are on (checked to exist when loaded)."""
        return self.revision or self.revisions[0].name

    @property
    def gateway_revision(self) -> str:
        """The revision the gateways are on (checked to exist when loaded)."""
        return self.gateway_revision_ or self.default_revision


class Cluster(Model):
    """One Kubernetes cluster of the environment; in multi-primary each runs its own istiod."""

    name: Name
    region: str = Field(min_length=1)
    network: Name


class Jwt(Model):
    """End-user JWT validation at the ingress gateway (RequestAuthentication)."""

    issuer: str = Field(min_length=1)
    jwks_uri: str = Field(pattern=r"^https://")
    paths: list[str] = Field(default_factory=list)


class Ingress(Model):
    """The public entry: hosts served by the ingress gateway over TLS (`tlsSecret`), or by
    the gateway `servers` written in Istio's terms (then `tlsSecret` is not used)."""

    hosts: list[Annotated[str, Field(pattern=HOSTNAME)] | Literal["*"]] = Field(min_length=1)
    tls_secret: Name | None = None
    servers: list[istio.GatewaySpecServers] | None = Field(default=None, min_length=1)
    jwt: Jwt | None = None
    api: Literal["istio", "gateway-api"] = "istio"
    """Which API configures the ingress: Istio's Gateway and VirtualService (`istio`, the
    Helm-installed ingress gateway), or Kubernetes Gateway API (`gateway-api`: a Gateway of
    class `istio`, which istiod deploys, and one HTTPRoute per exposed service)."""

    @model_validator(mode="after")
    def _served(self) -> Ingress:
        if (self.tls_secret is None) == (self.servers is None):
            raise ValueError("set either tlsSecret (HTTPS on 443, 80 redirects) or servers")
        if self.api == "gateway-api" and self.servers is not None:
            raise ValueError(
                "servers are Istio Gateway servers: with api gateway-api set tlsSecret, "
                "or write Gateway API objects as top-level extensions"
            )
        return self


class ExternalService(Model):
    """A dependency outside the mesh, reached through a ServiceEntry.

    `port` and `protocol` are the shorthand of one port; `ports` (Istio's ServicePort) is the
    general form. The other ServiceEntry fields are Istio's, as written; `trafficPolicy`
    (Istio's, e.g. `tls: {mode: SIMPLE}` to originate TLS at the sidecar) adds a
    DestinationRule for the host."""

    name: Name
    host: Annotated[str, Field(pattern=HOSTNAME)] | None = None
    hosts: list[Annotated[str, Field(pattern=HOSTNAME)]] | None = Field(default=None, min_length=1)
    """Several hosts (Istio's `hosts`, wildcards allowed): the general form of `host`."""
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    protocol: Literal["TLS", "HTTPS", "HTTP", "TCP", "GRPC", "HTTP2", "MONGO"] | None = None
    ports: list[istio.ServiceEntrySpecPorts] | None = Field(default=None, min_length=1)
    addresses: list[str] | None = None
    resolution: Literal["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"] = "DNS"
    location: Literal["MESH_EXTERNAL", "MESH_INTERNAL"] = "MESH_EXTERNAL"
    endpoints: list[istio.ServiceEntrySpecEndpoints] | None = None
    export_to: list[str] | None = None
    subject_alt_names: list[str] | None = None
    traffic_policy: istio.DestinationRuleSpecTrafficPolicy | None = None
    sensitive: bool = False

    @property
    def all_hosts(self) -> list[str]:
        """`hosts`, or the one `host`."""
        return self.hosts or [str(self.host)]

    @model_validator(mode="after")
    def _ports(self) -> ExternalService:
        if (self.host is None) == (self.hosts is None):
            raise ValueError("set host, or hosts")
        if self.ports is None and (self.port is None or self.protocol is None):
            raise ValueError("set port and protocol, or ports")
        if self.ports is not None and (self.port is not None or self.protocol is not None):
            raise ValueError("set port and protocol, or ports, not both")
        return self


class Version(Model):
    """A subset of a service (Deployment per version); weight is its share of traffic in %
    (not set when the service routes with `http`, `tcp` or `tls`). `labels` select the
    subset's pods (default `version: <name>`); `trafficPolicy` is Istio's, per subset."""

    name: Name
    weight: Annotated[int, Field(ge=0, le=100)] | None = None
    image: str | None = None
    labels: dict[str, str] | None = None
    traffic_policy: istio.DestinationRuleSpecTrafficPolicy | None = None


class Fault(Model):
    """Shorthand for one `Experiment` on this service (see config/exercises.py): named
    `fault-injection`, gated by `<header>: <service name>`, ungated when `header` is null."""

    percent: Annotated[float, Field(gt=0, le=100)]
    delay: Duration | None = None
    abort: Annotated[int, Field(ge=400, le=599)] | None = None
    header: str | None = Field(default="x-meshops-fault", pattern=r"^[a-z0-9-]+$")

    @model_validator(mode="after")
    def _some_fault(self) -> Fault:
        if self.delay is None and self.abort is None:
            raise ValueError("set delay, abort or both")
        return self


class HeaderMatch(Model):
    """A request header that opts a request into an experiment (exact value match)."""

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    value: str = Field(min_length=1)


class Experiment(Model):
    """A fault experiment on one service's routes: the general form of a service's `fault:`.

    Without `header` every request is exposed (only where the profile allows ungated faults).
    """

    name: Name
    service: Name
    percent: Annotated[float, Field(gt=0, le=100)]
    delay: Duration | None = None
    abort: Annotated[int, Field(ge=400, le=599)] | None = None
    header: HeaderMatch | None = None

    @model_validator(mode="after")
    def _some_fault(self) -> Experiment:
        if self.delay is None and self.abort is None:
            raise ValueError("set delay, abort or both")
        return self


MAX_LOAD_TEST_SECONDS = 1800


class LoadTest(Model):
    """A bounded fortio run against one HTTP service, emitted as a Kubernetes Job."""

    name: Name
    target: Name
    qps: Annotated[int, Field(gt=0, le=5000)]
    duration: Duration
    connections: Annotated[int, Field(ge=1, le=64)]
    path: str = Field(default="/", pattern=r"^/\S*$")

    @field_validator("duration")
    @classmethod
    def _bounded(cls, duration: str) -> str:
        if not 1 <= seconds(duration) <= MAX_LOAD_TEST_SECONDS:
            raise ValueError(f"must be between 1s and 30m, got {duration}")
        return duration


class Queue(Model):
    """A message queue the service consumes; its backlog drives autoscaling."""

    broker: Name
    name: str = Field(min_length=1)
    target_backlog: Annotated[int, Field(ge=1)] = 30


class IngressRoute(Model):
    """Expose the service at a path prefix on the ingress hosts."""

    path: str = Field(pattern=r"^/")


class ServicePort(Model):
    """One port of a service, as Kubernetes names it. Istio reads its protocol from
    `appProtocol`, else from the name's prefix (`http`, `http2`, `grpc`, `tcp`, `tls`,
    `mongo`, ...: https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/)."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=15)
    port: Annotated[int, Field(ge=1, le=65535)]
    target_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """The container's port (default: `port`)."""
    app_protocol: str | None = None


LABEL_KEY = r"^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
LabelKey = Annotated[str, Field(pattern=LABEL_KEY)]
LabelValue = Annotated[str, Field(pattern=LABEL_VALUE)]


class Workload(Model):
    """Pods someone else deploys (an application team's own Helm chart, ...): meshops emits
    only the mesh layer around them (routing, traffic policy, authorization, Sidecar, alerts),
    no Deployment, ServiceAccount or PDB, and an HPA only when the service sets `autoscaling`
    (of `deployment`)."""

    deployed_by: str = Field(min_length=1)
    """Who deploys them, for the generated docs (`helm release ledger`, `team payments CI`)."""
    selector: dict[LabelKey, LabelValue] = Field(min_length=1)
    """The pods' labels: the Service selects them, a single version's subset too."""
    service_account: Name | None = None
    """The pods' ServiceAccount, their mesh identity (default: the service's name)."""
    service: Literal["meshops", "theirs"] = "meshops"
    """Who owns the Kubernetes Service named like the service, with `port` and `protocol`:
    meshops (it renders it) or theirs (meshops only routes to it)."""
    deployment: Name | None = None
    """The Deployment an HPA scales, when the service sets `autoscaling`."""


class Names(Model):
    """Names a service's objects keep (default: the service's name), so adopting an existing
    mesh never deletes and recreates them."""

    virtual_service: Name | None = None
    destination_rule: Name | None = None
    authorization_policy: Name | None = None
    sidecar: Name | None = None


FALLBACKS = (
    "resources",
    "autoscaling",
    "timeout",
    "retries",
    "outlier_detection",
    "alerts",
    "connection_pool",
    "load_balancer",
)
"""The fields of a service that, when it leaves them out, come from the policy's field of the
same name, as a whole block (no deep merge). The one table of that fallback: the traced view
applies it (config/view.py, through `Environment.traced`), and so `Environment.settings()`,
provenance and `propose` follow it."""


class Service(Model):
    """One workload of the mesh: Deployment(s), Service, policies, routing and alerts."""

    name: Name
    image: str | None = Field(
        default=None, pattern=r"^[^\s:@]+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
    )
    """Required unless `workload:` says someone else deploys it."""
    protocol: Literal["http", "grpc"] = "http"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    health_path: str = Field(default="/healthz", pattern=r"^/")
    calls: list[ServiceRef] = Field(default_factory=list)
    externals: list[Name] = Field(default_factory=list)
    ingress: IngressRoute | None = None
    versions: list[Version] = Field(default_factory=lambda: [Version(name="v1", weight=100)])
    resources: Resources | None = None
    autoscaling: Autoscaling | Literal[False] | None = None
    timeout: Duration | Off | None = None
    retries: Retries | Off | None = None
    outlier_detection: OutlierDetection | Off | None = None
    fault: Fault | None = None
    queue: Queue | None = None
    alerts: Alerts | Off | None = None
    env: dict[Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")], str] = Field(
        default_factory=dict
    )
    ports: list[ServicePort] | None = Field(default=None, min_length=1)
    """Several ports (the general form of `port` and `protocol`, then not set); pods are
    probed by a TCP connect to the first."""
    http: list[istio.VirtualServiceSpecHttp] | None = None
    """Istio's HTTP routes, as written: the general form of `versions` weights, `timeout`,
    `retries` and `fault` (which are then not set)."""
    tcp: list[istio.VirtualServiceSpecTcp] | None = None
    tls: list[istio.VirtualServiceSpecTls] | None = None
    traffic_policy: istio.DestinationRuleSpecTrafficPolicy | None = None
    """Istio's, replacing the profile's load balancer, connection pool and ejection; `{}`
    renders none."""
    authorization_policies: list[objects.AuthorizationPolicy] = Field(default_factory=list)
    peer_authentications: list[objects.PeerAuthentication] = Field(default_factory=list)
    request_authentications: list[objects.RequestAuthentication] = Field(default_factory=list)
    telemetries: list[objects.Telemetry] = Field(default_factory=list)
    extensions: list[objects.Extension] = Field(default_factory=list)

    @property
    def routed(self) -> bool:
        """Whether the service writes its routes in Istio's terms (`http`, `tcp`, `tls`)."""
        return self.http is not None or self.tcp is not None or self.tls is not None

    connection_pool: ConnectionPool | Off | None = None
    load_balancer: LoadBalancer | Off | None = None
    workload: Workload | None = None
    """Set when meshops does not deploy the service's pods (see `Workload`)."""
    destination_rule: Off | None = None
    """`false`: no DestinationRule of its own (no subsets, no traffic policy: callers reach
    every pod as Kubernetes balances them), e.g. an adopted service whose DestinationRules, if
    any, stay as written under `destinationRules`."""
    names: Names | None = None
    """Names its objects already have in the cluster, kept on adoption."""

    @model_validator(mode="after")
    def _deployed(self) -> Service:
        if self.image is None and self.workload is None:
            raise ValueError("set `image`, or `workload` for pods someone else deploys")
        if self.image is not None and self.workload is not None:
            raise ValueError("`image` and `workload` exclude each other: who deploys the pods?")
        return self

    @field_validator("versions")
    @classmethod
    def _versions(cls, versions: list[Version]) -> list[Version]:
        if not versions:
            raise ValueError("at least one version is required")
        names = [v.name for v in versions]
        if len(set(names)) != len(names):
            raise ValueError(f"version names must be unique, got {names}")
        return versions


class ArgoCD(Model):
    """Where Argo CD reads this repository from."""

    repo_url: str = Field(min_length=1, alias="repoURL")
    revision: str = "HEAD"
    namespace: Name = "argocd"


class _Matcher(Model):
    """What drift's ignore rules and waivers match: kind, namespace and name globs and a JSON
    Pointer prefix."""

    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    path: str | None = Field(default=None, pattern=r"^/")

    @field_validator("path")
    @classmethod
    def _pointer(cls, value: str | None) -> str | None:
        """A JSON Pointer as drift reports it (`~` only as `~0`/`~1`), or it never matches."""
        if value is not None:
            jsonpointer.tokens(value)
        return value


class DriftIgnore(_Matcher):
    """Silence drift by kind/namespace/name globs plus a JSON Pointer prefix or a manager."""

    manager: str | None = None


class DriftWaiver(_Matcher):
    """A known difference accepted until a date: matched like an ignore rule (kind, namespace
    and name globs, a JSON Pointer prefix), but still listed (as `waived`), and back as a
    finding that alerts again once `expires` has come (the waiver is in force before that
    date, UTC)."""

    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: datetime.date


class DriftDigest(Model):
    """The weekly digest: on this weekday (UTC) the job's message lists what persists, even
    when nothing is new."""

    weekday: str

    @field_validator("weekday")
    @classmethod
    def _day(cls, value: str) -> str:
        if value not in contract.WEEKDAYS:
            raise ValueError(f"{value!r} is not one of {', '.join(contract.WEEKDAYS)}")
        return value


class DriftSeverity(Model):
    """Severity for differences of a kind under a JSON Pointer glob (first match wins)."""

    kind: str = "*"
    path: str = "*"
    severity: Literal["critical", "high", "medium", "low"]


class SecretKeyRef(Model):
    """A key of a Secret in the drift job's namespace, created out of band (never in dist)."""

    name: Name
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$")


class DriftNotify(Model):
    """Where the nightly job sends its summary: a webhook whose URL (which carries its own
    credential, e.g. Slack's /services/T…/B…/token) is read from a Secret, never written here."""

    secret_ref: SecretKeyRef
    format: Literal["json", "slack"] = "json"

    @model_validator(mode="before")
    @classmethod
    def _no_inline_url(cls, data: object) -> object:
        if isinstance(data, dict) and "url" in data:
            raise ValueError("never inline the webhook URL (it is a credential): use secretRef")
        return data


class DriftPropose(Model):
    """After a run finds drift, adopt its live values on a new branch for review
    (`meshops drift --propose-branch`): `<branchPrefix>/<env>/<cluster>/<UTC timestamp>`, pushed
    with the job's git credentials (the `meshops-drift-git` Secret); none are written here."""

    adopt: bool = True
    """False keeps the setting but runs no proposal."""
    branch_prefix: str = Field(
        default="meshops/adopt", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"
    )


class Drift(Model):
    """The nightly drift job of this environment, and how its findings are judged.

    `pushgateway` is the Prometheus Pushgateway the job pushes its metrics to (the `meshops-drift`
    alerts read them); it must not carry credentials: it lands in dist/.
    """

    schedule: str = Field(default="17 3 * * *", pattern=r"^(\S+\s+){4}\S+$")
    image: str = Field(default="ghcr.io/meshops/meshops:0.1.0", pattern=r"^[^\s:@]+[:@]\S+$")
    ignore: list[DriftIgnore] = Field(default_factory=list)
    severity: list[DriftSeverity] = Field(default_factory=list)
    controllers: list[str] = Field(default_factory=list)
    notify: DriftNotify | None = None
    pushgateway: str | None = Field(default=None, pattern=r"^https?://[^\s/@?#]+(/[^\s@?#]*)?$")
    propose: DriftPropose | None = None
    """Nightly adoption branches; absent: the job only reports."""
    waivers: list[DriftWaiver] = Field(default_factory=list)
    digest: DriftDigest | None = None
    """A weekly message listing what persists; absent: no digest."""
    critical_for: Duration = "24h"
    """How long a critical finding may persist before `MeshopsDriftCriticalPersisting` fires."""


class Cost(Model):
    """Prices for `meshops cost`, per requested resource; every field is optional.

    The defaults are round on-demand list prices of a general-purpose cloud VM split per
    resource (USD 0.031 per vCPU-hour, USD 0.0042 per GiB-hour): a yardstick to compare
    environments and changes, not a bill. Set the organisation's own rates here.
    """

    cpu_per_core_hour: Annotated[float, Field(ge=0)] = 0.031
    memory_per_gib_hour: Annotated[float, Field(ge=0, alias="memoryPerGiBHour")] = 0.0042
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    nodes: Annotated[int, Field(ge=1)] | None = None
    """Nodes per cluster: ambient runs ztunnel and istio-cni on every node. Without it they
    are priced per node and left out of the totals (meshops does not know the node count)."""


class Defaults(Model):
    """A namespace's defaults for its services, between theirs and the policy's (FALLBACKS);
    `false` switches one off for the namespace."""

    resources: Resources | None = None
    autoscaling: Autoscaling | Off | None = None
    timeout: Duration | Off | None = None
    retries: Retries | Off | None = None
    outlier_detection: OutlierDetection | Off | None = None
    alerts: Alerts | Off | None = None
    connection_pool: ConnectionPool | Off | None = None
    load_balancer: LoadBalancer | Off | None = None


class NamespaceWide(Model):
    """Istio objects of a whole namespace, each its name plus Istio's spec as written (the
    platform file's top level: its namespace's; a `namespaces:` entry: that namespace's)."""

    gateways: list[objects.Gateway] = Field(default_factory=list)
    virtual_services: list[objects.VirtualService] = Field(default_factory=list)
    destination_rules: list[objects.DestinationRule] = Field(default_factory=list)
    service_entries: list[objects.ServiceEntry] = Field(default_factory=list)
    sidecars: list[objects.Sidecar] = Field(default_factory=list)
    authorization_policies: list[objects.AuthorizationPolicy] = Field(default_factory=list)
    peer_authentications: list[objects.PeerAuthentication] = Field(default_factory=list)
    request_authentications: list[objects.RequestAuthentication] = Field(default_factory=list)
    telemetries: list[objects.Telemetry] = Field(default_factory=list)
    gateway_api_gateways: list[gwapi.GatewayApiGateway] = Field(default_factory=list)
    """Gateway API's Gateways (`gateways` are Istio's)."""
    http_routes: list[gwapi.HTTPRoute] = Field(default_factory=list)
    grpc_routes: list[gwapi.GRPCRoute] = Field(default_factory=list)
    tcp_routes: list[gwapi.TCPRoute] = Field(default_factory=list)
    tls_routes: list[gwapi.TLSRoute] = Field(default_factory=list)
    reference_grants: list[gwapi.ReferenceGrant] = Field(default_factory=list)
    extensions: list[objects.Extension] = Field(default_factory=list)


class AppNamespace(NamespaceWide):
    """An application namespace beside the platform's own: its services (`calls` name others
    as `<namespace>/<service>`), what the profile adds to it, and its namespace-wide Istio
    objects."""

    name: Name
    services: list[Service] = Field(default_factory=list)
    defaults: Defaults | None = None
    authorization: bool | None = None
    """The namespace's `allow-nothing` and per-service ALLOW policies (default: the policy's)."""
    sidecar: bool | None = None
    """The namespace's default Sidecar and per-service Sidecars (default: the policy's)."""
    dataplane: Dataplane | None = None
    """Its data plane (default: the policy's), so a mesh moves to ambient one namespace at a
    time (`meshops plan-ambient`)."""
    experiments: list[Experiment] = Field(default_factory=list)
    """Fault experiments on this namespace's services (where the profile allows them)."""


class Team(Model):
    """An application team: the namespaces its own file, `environments/<env>/<team>.yaml`,
    may describe (and no other)."""

    namespaces: list[Name] = Field(min_length=1)


class TeamFile(Model):
    """Exactly what a team's file contains: its namespaces, each with its services."""

    namespaces: list[AppNamespace] = Field(min_length=1)


class Waiver(Model):
    """An exception to what the profile enforces (config/waivers.py), with its reason."""

    rule: Literal["mtls-strict", "default-deny", "egress-restricted", "fault-injection"]
    namespace: Name | None = None
    """Only there; absent: everywhere in the environment."""
    reason: str = Field(min_length=1, pattern=r"^[^\n]*$")


class EnvironmentFile(NamespaceWide):
    """Exactly what an environment file contains (before profile defaults are applied)."""

    profile: Profile
    namespace: Name
    """The platform's namespace: its `services:`, ingress routes, ServiceEntries, mesh-wide
    alerts and dashboards, load tests."""
    clusters: list[Cluster] = Field(min_length=1)
    ingress: Ingress | None = None
    argocd: ArgoCD
    policy: dict[str, object] = Field(default_factory=dict)
    mesh: dict[str, object] = Field(default_factory=dict)
    external_services: list[ExternalService] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    namespaces: list[AppNamespace] = Field(default_factory=list)
    """More application namespaces the platform describes itself."""
    teams: dict[Name, Team] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)
    """Application teams, each describing its namespaces in `environments/<env>/<team>.yaml`."""
    namespace_labels: dict[Name, dict[LabelKey, LabelValue]] = Field(default_factory=dict)
    """The labels an application namespace carries (its injection labels, as found: `meshops
    import` writes them), instead of the `istio.io/rev` label meshops would set. With an
    out-of-band control plane (`mesh.managed: false`), meshops renders only the Namespaces
    named here: the others stay as their owners made them."""
    experiments: list[Experiment] = Field(default_factory=list)
    load_tests: list[LoadTest] = Field(default_factory=list)
    drift: Drift = Field(default_factory=Drift)
    cost: Cost = Field(default_factory=Cost)
