"""The rule table: id, what it checks, how to fix it, severity per profile, audit control.

This is the one source of truth: `meshops validate` reports by it, `meshops audit` groups
by its `control` column, the rule table in docs/validate.md is checked against it. A severity
of None means the rule does not apply under that profile (audit still shows the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass

from charts_py.validate.findings import Severity

PROFILES = ("dev", "staging", "prod")
JUDGED_AS = {"none": "dev"}
"""Environment profiles validate judges as another: `none` adopts a mesh as it runs."""
STRICTEST = "prod"

_SEVERITY = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO, "-": None}


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule's metadata; its check is registered under the same id in rules/."""

    id: str
    title: str
    fix: str
    dev: Severity | None
    staging: Severity | None
    prod: Severity | None
    control: str = ""
    istio: str = ""
    """What `istioctl analyze` reports for the same mistake (message codes), empty if nothing."""
    istio_live: bool = False
    """istioctl reports it only against a live cluster: offline it skips the analyzer, which
    needs Pods, Services, Namespaces, Deployments or Secrets (it reads none from files)."""

    def severity(self, profile: str) -> Severity | None:
        """The severity under `profile` (dev, staging or prod; `none`, which adds nothing,
        is judged as dev); None: not reported."""
        found: Severity | None = getattr(self, JUDGED_AS.get(profile, profile))
        return found


CONTROLS = {
    "mtls": "mTLS everywhere",
    "authorization": "Default-deny authorization",
    "egress": "Egress restricted",
    "resilience": "Resilience settings on every service",
    "scaling": "Autoscaling and disruption budgets",
    "monitoring": "Monitoring and alerts",
    "workloads": "No privileged or unbounded workloads",
}
"""Audit controls, in report order; each rule names the one it gives evidence for."""


def _rule(
    rule_id: str,
    severities: str,
    title: str,
    fix: str,
    control: str = "",
    istio: str = "",
    live: bool = False,
) -> Rule:
    """A row; `severities` is "<dev> <staging> <prod>": E(rror), W(arning), I(nfo), -(off);
    `istio` the istioctl analyze codes for the same mistake, `live` if only with a cluster."""
    dev, staging, prod = (_SEVERITY[s] for s in severities.split())
    return Rule(
        id=rule_id,
        title=title,
        fix=fix,
        dev=dev,
        staging=staging,
        prod=prod,
        control=control,
        istio=istio,
        istio_live=live,
    )


RULES: tuple[Rule, ...] = (
    _rule(
        "schema",
        "E E E",
        "object matches the OpenAPI schema of its kind (unknown fields, types, enums, required)",
        "fix the field named; unknown fields are dropped silently by the API server",
    ),
    _rule(
        "schema-unknown-kind",
        "W W W",
        "a schema exists for the kind (packaged CRDs, Kubernetes 1.34 built-ins)",
        "check apiVersion/kind spelling; objects of unknown kinds are not schema-checked",
    ),
    _rule(
        "suppression-invalid",
        "E E E",
        "`meshops.dev/suppress` names known rules, gives a reason and, if any, a valid end date",
        'write `meshops.dev/suppress: "<rule-id>[,<rule-id>]: <reason> [(until YYYY-MM-DD)]"`',
    ),
    _rule(
        "drift-waiver",
        "W W W",
        "every drift waiver (`drift.waivers`) is in force and matches an object of the environment",
        "extend or remove an expired waiver (its finding alerts again); fix or remove one "
        "that matches nothing",
    ),
    _rule(
        "route-weights",
        "E E E",
        "route weights are integers summing to 100",
        "give each destination of a multi-destination route an integer weight, adding up to 100",
    ),
    _rule(
        "subset-exists",
        "E E E",
        "every referenced subset exists in the DestinationRule for that host",
        "add the subset to the DestinationRule of the host, or route without it",
        istio="IST0101",
    ),
    _rule(
        "host-resolves",
        "E E E",
        "VirtualService hosts and destinations resolve to a Service or ServiceEntry",
        "fix the host name, or add the Service/ServiceEntry it refers to",
        istio="IST0101",
        live=True,
    ),
    _rule(
        "virtualservice-host-unique",
        "E E E",
        "one mesh-bound VirtualService per host",
        "merge the routes into one VirtualService per host",
        istio="IST0109",
    ),
    _rule(
        "route-budget",
        "W E E",
        "route timeout >= perTryTimeout x (attempts + 1)",
        "raise the route timeout or lower attempts/perTryTimeout",
        "resilience",
    ),
    _rule(
        "route-timeouts",
        "- W W",
        "every HTTP route sets a timeout; retries bound each try (perTryTimeout)",
        "set `timeout` on the route and `retries.perTryTimeout` when retrying",
        "resilience",
    ),
    _rule(
        "outlier-detection",
        "- W W",
        "every DestinationRule ejects failing hosts (outlierDetection)",
        "add trafficPolicy.outlierDetection (e.g. 5 x 5xx / 10s / 30s / 50%)",
        "resilience",
    ),
    _rule(
        "locality-failover-outlier",
        "E E E",
        "locality failover comes with outlierDetection",
        "add outlierDetection next to localityLbSetting: failover never triggers without it",
        "resilience",
        istio="IST0133",
    ),
    _rule(
        "sync-wave-order",
        "W W W",
        "no DestinationRule syncs in a later wave than a VirtualService routing to its host",
        "give the DestinationRule the VirtualService's sync-wave or a lower one (or neither)",
    ),
    _rule(
        "sync-wave-health",
        "E E E",
        "nothing syncs in a later wave than an object whose health Argo CD waits for",
        "put workloads (Deployments, HPAs, PDBs, Jobs) in the last sync wave: Argo CD starts a "
        "wave only when the earlier ones are Healthy",
    ),
    _rule(
        "argocd-destination",
        "E E E",
        "each Argo CD Application's destination (cluster, namespace) is one its AppProject allows",
        "set the Application's (or ApplicationSet template's) destination namespace to one "
        "listed for that cluster in the AppProject's destinations",
    ),
    _rule(
        "argocd-project-permits",
        "E E E",
        "the AppProject allows the kind and namespace of every object its Applications sync",
        "add the kind to the project's namespace/clusterResourceWhitelist, or the namespace "
        "to its destinations",
    ),
    _rule(
        "fault-injection",
        "I I E",
        "no fault injection",
        "remove `fault` from the route; keep fault experiments out of this environment",
    ),
    _rule(
        "fault-injection-gated",
        "I E E",
        "fault injection only behind a header match",
        "add a `match` on a request header to the route that injects faults",
    ),
    _rule(
        "tls-disable-strict",
        "E E E",
        "no DestinationRule `tls.mode: DISABLE` toward hosts with STRICT mTLS",
        "use ISTIO_MUTUAL (or drop the tls block) for in-mesh hosts",
        "mtls",
    ),
    _rule(
        "peer-authentication-unique",
        "E E E",
        "one mesh-wide PeerAuthentication, at most one namespace-wide per namespace",
        "keep one selector-less PeerAuthentication in istio-system and at most one per namespace",
        "mtls",
    ),
    _rule(
        "mtls-strict",
        "- W E",
        "PeerAuthentication mode is STRICT",
        "set spec.mtls.mode: STRICT (PERMISSIVE accepts plaintext)",
        "mtls",
    ),
    _rule(
        "default-deny",
        "- W E",
        "every injected namespace has an `allow-nothing` AuthorizationPolicy",
        "add an ALLOW AuthorizationPolicy with an empty spec, then positive ALLOW policies",
        "authorization",
    ),
    _rule(
        "sidecar-unique",
        "E E E",
        "at most one selector-less Sidecar per namespace",
        "keep one default Sidecar; give the others a workloadSelector",
        istio="IST0111",
        live=True,
    ),
    _rule(
        "telemetry-unique",
        "E E E",
        "at most one selector-less Telemetry per namespace",
        "keep one default Telemetry; give the others a selector",
        istio="IST0160",
    ),
    _rule(
        "selector-unique",
        "E E E",
        "no pod is selected by two Sidecars, or by two Telemetries (which applies is undefined)",
        "make the selectors of one namespace's Sidecars (Telemetries) pick disjoint pods",
        istio="IST0110,IST0159",
        live=True,
    ),
    _rule(
        "selector-matches-workload",
        "W W W",
        "a Sidecar's or Telemetry's selector matches pods of its namespace in the manifests",
        "fix the selector's labels, or check that the workload exists in the cluster",
        istio="IST0101",
        live=True,
    ),
    _rule(
        "egress-restricted",
        "- W E",
        "outbound traffic is REGISTRY_ONLY (default Sidecar per injected namespace)",
        "set outboundTrafficPolicy.mode: REGISTRY_ONLY on the Sidecars",
        "egress",
    ),
    _rule(
        "registry-only-service-entry",
        "E E E",
        "under REGISTRY_ONLY every external egress host has a ServiceEntry",
        "add a ServiceEntry for the host (or remove it from the Sidecar's egress)",
        "egress",
    ),
    _rule(
        "envoy-filter",
        "I W E",
        "no EnvoyFilter",
        "express it with Istio's APIs; EnvoyFilters break on upgrades",
        istio="IST0133",
    ),
    _rule(
        "alpha-api",
        "I W E",
        "no alpha APIs (not an alpha version served with a stable one's schema, such as "
        "networking.istio.io/v1alpha3; nor argoproj.io/v1alpha1, Argo CD's GA API)",
        "use the stable apiVersion the message names; where none exists, suppress with a reason",
    ),
    _rule(
        "tracing-sampling",
        "- - E",
        "tracing samples at most 5% of requests",
        "lower randomSamplingPercentage to 5 or less",
        "monitoring",
    ),
    _rule(
        "no-secrets",
        "W E E",
        "no Secrets in manifests kept in git",
        "create Secrets out of band (or use an external secret store)",
    ),
    _rule(
        "configmap-size",
        "E E E",
        "a ConfigMap holds at most 1 MiB of data (the API server refuses more)",
        "split the data over several ConfigMaps",
    ),
    _rule(
        "gateway-port-names",
        "E E E",
        "port names are unique within a Gateway",
        "give each server port its own name",
        istio="IST0106",
    ),
    _rule(
        "gateway-host-port",
        "E E E",
        "no host:port served by two Gateways with the same selector",
        "serve each host:port from one Gateway per gateway deployment",
        istio="IST0145",
        live=True,
    ),
    _rule(
        "hpa-target",
        "E E E",
        "an HPA's scaleTargetRef exists",
        "fix scaleTargetRef or add the workload",
        "scaling",
    ),
    _rule(
        "hpa-metric-served",
        "E E E",
        "every External/Object metric an HPA uses is served",
        "add a prometheus-adapter rule naming the metric (meshops renders adapter-config)",
        "scaling",
    ),
    _rule(
        "hpa-replicas",
        "E E E",
        "workloads scaled by an HPA set no `replicas`",
        "remove spec.replicas: every sync would reset what the autoscaler chose",
        "scaling",
    ),
    _rule(
        "pdb-selects-one",
        "E E E",
        "a PodDisruptionBudget selects exactly one workload",
        "narrow (or fix) the PDB selector to one workload's pod labels",
        "scaling",
    ),
    _rule(
        "autoscaling",
        "- I I",
        "every Deployment is scaled by an HPA",
        "add a HorizontalPodAutoscaler",
        "scaling",
    ),
    _rule(
        "disruption-budget",
        "- W W",
        "every Deployment has a PodDisruptionBudget",
        "add a PodDisruptionBudget (maxUnavailable: 1)",
        "scaling",
    ),
    _rule(
        "namespace-injection",
        "W W W",
        "a Namespace names one data plane: not two of `istio-injection: enabled`, "
        "`istio.io/rev`, `istio.io/dataplane-mode`",
        "keep one of the labels (istio-injection set to another value than enabled wins)",
        istio="IST0123",
        live=True,
    ),
    _rule(
        "waypoint-exists",
        "E E E",
        "a namespace or Service labelled `istio.io/use-waypoint` names a waypoint (a Gateway "
        "of class istio-waypoint) that exists",
        "add the waypoint Gateway, or remove the label",
    ),
    _rule(
        "ambient-installed",
        "E E E",
        "a namespace labelled `istio.io/dataplane-mode: ambient` is in a cluster that installs "
        "istio-cni and ztunnel, and istiod with ambient on",
        "install the `cni` (profile ambient) and `ztunnel` charts and istiod with profile "
        "ambient, or keep the namespace on sidecars",
    ),
    _rule(
        "http-policy-waypoint",
        "E E E",
        "in an ambient namespace, an AuthorizationPolicy with HTTP attributes targets a "
        "waypoint (`targetRefs`), not pods by `selector` (ztunnel enforces L4 only)",
        "attach the policy to the waypoint with targetRefs instead of selector",
    ),
    _rule(
        "route-api-unique",
        "E E E",
        "no host is routed both by a mesh VirtualService and by an HTTPRoute or GRPCRoute "
        "with a Service parent",
        "route the host with one API: HTTPRoute under a waypoint, VirtualService for sidecars",
    ),
    _rule(
        "envoy-filter-waypoint",
        "E E E",
        "no EnvoyFilter selects a waypoint (Istio does not apply EnvoyFilter to waypoints)",
        "use a WasmPlugin or Istio policy with targetRefs to the waypoint",
    ),
    _rule(
        "waypoint-fault-retries",
        "W E E",
        "a host served by a waypoint asks for no fault injection or retry setting that "
        "HTTPRoute cannot express (retryOn conditions beyond status codes, "
        "retryRemoteLocalities)",
        "retry on status codes; keep the namespace on sidecars while it needs the rest",
    ),
    _rule(
        "sidecar-ambient",
        "W W W",
        "no Sidecar in an ambient namespace or selecting ambient pods (no sidecar reads it)",
        "remove it; scope traffic with ztunnel and waypoint policy",
        istio="IST0167",
        live=True,
    ),
    _rule(
        "gateway-policy-target",
        "E E E",
        "a policy for a Kubernetes Gateway's pods attaches by `targetRefs`, not `selector` "
        "(Istio ignores the selector there)",
        "use targetRefs (group gateway.networking.k8s.io, kind Gateway)",
        istio="IST0166",
        live=True,
    ),
    _rule(
        "service-port-protocol",
        "W W W",
        "Service ports are named by protocol (http-, grpc-, tcp-, ...) or set appProtocol",
        "name the port `<protocol>[-suffix]` or set appProtocol",
        istio="IST0118",
        live=True,
    ),
    _rule(
        "workload-resources",
        "I W E",
        "containers request CPU and memory and limit memory",
        "set resources.requests.cpu, requests.memory and limits.memory",
        "workloads",
    ),
    _rule(
        "workload-security",
        "I W E",
        "pods run as non-root, without privilege escalation, privileges or host namespaces",
        "set runAsNonRoot: true and allowPrivilegeEscalation: false; drop privileged/host*",
        "workloads",
    ),
    _rule(
        "service-alerts",
        "I W W",
        "every Service in an injected namespace has alerts (a PrometheusRule naming it)",
        "add a PrometheusRule whose expressions select the service",
        "monitoring",
    ),
    _rule(
        "prometheus-rule-expr",
        "E E E",
        "PrometheusRule expressions and templates parse (promtool check rules)",
        "fix the expression named",
        "monitoring",
    ),
    _rule(
        "revision-exists",
        "E E E",
        "namespaces and gateways use a revision an istiod Application installs",
        "declare the revision in the environment's mesh.revisions, or move to an installed one",
    ),
    _rule(
        "gateway-workload-exists",
        "E E E",
        "a Gateway's selector matches the pods of a gateway Application (when any is present)",
        "give the gateway release the Gateway's selector labels, or fix the selector",
    ),
    _rule(
        "telemetry-provider-defined",
        "E E E",
        "Telemetry names providers that every istiod's meshConfig defines (or Istio's built-ins)",
        "add the provider to meshConfig.extensionProviders of each istiod, or name a defined one",
        "monitoring",
    ),
    _rule(
        "mesh-identity",
        "E E E",
        "every cluster's istiod: one meshID and trust domain, its own clusterName, its network",
        "render every cluster's control plane from one environment (mesh.meshID, trustDomain)",
    ),
    _rule(
        "policy-identical",
        "E E E",
        "policy objects are identical in every primary cluster of an environment",
        "render every primary from the same policy; only the cluster label may differ",
    ),
    _rule(
        "destination-tls-verify",
        "W W W",
        "a DestinationRule originating TLS (SIMPLE, MUTUAL) names the CA that verifies the server",
        "set tls.caCertificates (or credentialName with a workloadSelector)",
        istio="IST0128,IST0129",
    ),
    _rule(
        "service-entry-addresses",
        "E E E",
        "a TCP ServiceEntry without addresses does not share its port with another ServiceEntry",
        "give the ServiceEntry `addresses` or a port of its own (else it captures the port)",
        "egress",
        istio="IST0134",
    ),
    _rule(
        "gateway-exists",
        "E E E",
        "every Gateway a VirtualService binds to exists",
        "fix the gateway reference (`<namespace>/<name>`) or add the Gateway",
        istio="IST0101",
    ),
    _rule(
        "gateway-serves-host",
        "E E E",
        "each Gateway a VirtualService binds to serves at least one of its hosts",
        "add the host to a server of the Gateway, or bind the VirtualService elsewhere",
        istio="IST0132",
    ),
    _rule(
        "route-unreachable",
        "W E E",
        "no route rule is shadowed by an earlier rule without `match` or with the same matches",
        "put catch-all rules last and drop rules whose matches an earlier rule already takes",
        istio="IST0130,IST0131",
    ),
    _rule(
        "subset-selects-pods",
        "E E E",
        "every DestinationRule subset selects pods of a workload behind the host's Service",
        "fix the subset labels or deploy the version they name (requests to it fail 503 UH)",
        istio="IST0173",
        live=True,
    ),
    _rule(
        "gateway-service-port",
        "W W W",
        "a Gateway listens only on ports its workload's Service exposes",
        "expose the port on the gateway Service (chart-made ones: config/installation.py)",
        istio="IST0162",
        live=True,
    ),
    _rule(
        "destination-port",
        "E E E",
        "a route to a Service or ServiceEntry with several ports names the port",
        "set destination.port.number",
        istio="IST0112",
        live=True,
    ),
    _rule(
        "proxy-uid",
        "E E E",
        "no application container runs as UID 1337, the sidecar's own user",
        "run the app as another UID: traffic of UID 1337 bypasses the sidecar",
        "workloads",
        istio="IST0144",
        live=True,
    ),
    _rule(
        "istio-annotation",
        "W E E",
        "annotations in `*.istio.io/` are ones Istio knows (a misspelt one is ignored)",
        "fix the spelling (Istio's annotations: istio.io/latest/docs/reference/config/annotations)",
        istio="IST0108",
        live=True,
    ),
    _rule(
        "deny-http-only",
        "W E E",
        "a DENY AuthorizationPolicy rule with only HTTP attributes names its ports",
        "add to.operation.ports (the HTTP ports): on TCP ports the rule denies everything",
        "authorization",
        istio="IST0133",
    ),
    _rule(
        "gateway-route-subsets",
        "W E E",
        "gateway-bound routes keep the subsets and retries of the service's mesh routing",
        "route to the same subsets with the same retries as the service's VirtualService",
        istio="IST0140",
        live=True,
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
