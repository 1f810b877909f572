"""The rule table: id, what it checks, how to fix it, severity per profile, audit control.

This is the one source of truth: `meshops validate` reports by it, `meshops audit` groups
by its `control` column, the rule table in docs/validate.md is checked against it. A
severity of None means the rule does not apply under that profile (audit still shows the
outcome).
"""

from __future__ import annotations

from dataclasses import dataclass

from charts_py.validate.findings import Severity

PROFILES = ("dev", "staging", "prod")
STRICTEST = "prod"

_SEVERITY = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO, "-": None}


@dataclass(frozen=True)
class Rule:
    """A rule's metadata; its check is registered under the same id in rules/."""

    id: str
    title: str
    fix: str
    dev: Severity | None
    staging: Severity | None
    prod: Severity | None
    control: str = ""

    def severity(self, profile: str) -> Severity | None:
        """The severity under `profile` (dev, staging or prod); None: not reported."""
        found: Severity | None = getattr(self, profile)
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


def _rule(rule_id: str, severities: str, title: str, fix: str, control: str = "") -> Rule:
    """A row; `severities` is "<dev> <staging> <prod>": E(rror), W(arning), I(nfo), -(off)."""
    dev, staging, prod = (_SEVERITY[s] for s in severities.split())
    return Rule(rule_id, title, fix, dev, staging, prod, control)


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
        "`meshops.dev/suppress` names known rules and gives a reason",
        'write `meshops.dev/suppress: "<rule-id>[,<rule-id>]: <reason>"`',
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
    ),
    _rule(
        "host-resolves",
        "E E E",
        "VirtualService hosts and destinations resolve to a Service or ServiceEntry",
        "fix the host name, or add the Service/ServiceEntry it refers to",
    ),
    _rule(
        "virtualservice-host-unique",
        "E E E",
        "one mesh-bound VirtualService per host",
        "merge the routes into one VirtualService per host",
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
    ),
    _rule(
        "sync-wave-order",
        "W E E",
        "DestinationRules sync in an earlier wave than the VirtualServices using them",
        "give the DestinationRule a lower argocd.argoproj.io/sync-wave than the VirtualService",
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
    ),
    _rule(
        "telemetry-unique",
        "E E E",
        "at most one selector-less Telemetry per namespace",
        "keep one default Telemetry; give the others a selector",
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
    ),
    _rule(
        "alpha-api",
        "I W E",
        "no alpha API versions (argoproj.io/v1alpha1 is Argo CD's GA API)",
        "use the stable apiVersion of the kind",
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
        "E E E",
        "no Secrets in manifests kept in git",
        "create Secrets out of band (or use an external secret store)",
    ),
    _rule(
        "gateway-port-names",
        "E E E",
        "port names are unique within a Gateway",
        "give each server port its own name",
    ),
    _rule(
        "gateway-host-port",
        "E E E",
        "no host:port served by two Gateways with the same selector",
        "serve each host:port from one Gateway per gateway deployment",
    ),
    _rule(
        "hpa-target",
        "E E E",
        "an HPA's scaleTargetRef exists",
        "fix scaleTargetRef or add the workload",
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
        "E E E",
        "a Namespace carries exactly one of `istio-injection` / `istio.io/rev`",
        "label the namespace with istio-injection or istio.io/rev, not both",
    ),
    _rule(
        "service-port-protocol",
        "W E E",
        "Service ports are named by protocol (http-, grpc-, tcp-, ...) or set appProtocol",
        "name the port `<protocol>[-suffix]` or set appProtocol",
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
        "policy-identical",
        "E E E",
        "policy objects are identical in every primary cluster of an environment",
        "render every primary from the same policy; only the cluster label may differ",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
