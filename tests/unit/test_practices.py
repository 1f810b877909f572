"""What each practice produces per profile, read from the rendered sample environments."""

from __future__ import annotations

from charts_py import contract
from charts_py.render.manifest import Manifest
from tests.conftest import find, kinds_under

DEV, STAGING, EAST, WEST = "dev/dev-1", "staging/staging-1", "prod/prod-east", "prod/prod-west"


def test_every_object_carries_the_contract_labels(rendered: list[Manifest]) -> None:
    for m in rendered:
        labels = m.obj["metadata"]["labels"]
        top, rest = m.path.split("/", 1)
        assert labels[contract.MANAGED_BY] == "meshops", m.path
        assert labels[contract.CHART] == m.chart, m.path
        if top != contract.BOOTSTRAP_DIR:
            assert labels[contract.ENVIRONMENT] == top, m.path
            assert labels[contract.CLUSTER] == rest.split("/", 1)[0], m.path


def test_no_secrets_anywhere(rendered: list[Manifest]) -> None:
    assert not [m.path for m in rendered if m.obj["kind"] == "Secret"]


def test_mtls_mode_per_profile(rendered: list[Manifest]) -> None:
    modes = {
        p: find(rendered, p, "PeerAuthentication", "default")["spec"]["mtls"]["mode"]
        for p in (DEV, STAGING, EAST)
    }
    assert modes == {DEV: "PERMISSIVE", STAGING: "STRICT", EAST: "STRICT"}
    assert find(rendered, EAST, "PeerAuthentication", "default")["metadata"]["namespace"] == (
        "istio-system"
    )


def test_default_deny_and_positive_allows_outside_dev(rendered: list[Manifest]) -> None:
    assert kinds_under(rendered, DEV).get("AuthorizationPolicy", 0) == 0
    deny = find(rendered, EAST, "AuthorizationPolicy", "allow-nothing", "shop")
    assert deny["spec"] == {}
    payment = find(rendered, EAST, "AuthorizationPolicy", "payment")["spec"]
    assert payment["action"] == "ALLOW"
    assert payment["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/shop/sa/checkout"
    ]
    frontend = find(rendered, EAST, "AuthorizationPolicy", "frontend")["spec"]
    assert frontend["rules"][0]["from"][0]["source"]["principals"] == [
        "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
    ]
    # Nobody calls notifications: allow-nothing alone covers it.
    names = {
        m.obj["metadata"]["name"]
        for m in rendered
        if m.path.startswith(EAST) and m.obj["kind"] == "AuthorizationPolicy"
    }
    assert "notifications" not in names


def test_hpa_owns_replicas(rendered: list[Manifest]) -> None:
    for prefix, minimum in ((DEV, 1), (STAGING, 2), (EAST, 3)):
        deployment = find(rendered, prefix, "Deployment", "cart-v1")
        assert "replicas" not in deployment["spec"]
        hpa = find(rendered, prefix, "HorizontalPodAutoscaler", "cart-v1")["spec"]
        assert hpa["minReplicas"] == minimum
        types = [metric["type"] for metric in hpa["metrics"]]
        assert types == ["ContainerResource", "Resource", "External"]
        assert hpa["metrics"][0]["containerResource"]["container"] == "cart"


def test_queue_worker_scales_on_backlog(rendered: list[Manifest]) -> None:
    hpa = find(rendered, EAST, "HorizontalPodAutoscaler", "notifications-v1")["spec"]
    external = hpa["metrics"][2]["external"]
    assert external["metric"]["selector"]["matchLabels"] == {"queue": "order-events"}
    assert external["target"] == {"type": "AverageValue", "averageValue": "50"}


def test_pdb_outside_dev_selects_one_workload(rendered: list[Manifest]) -> None:
    assert "PodDisruptionBudget" not in kinds_under(rendered, DEV)
    pdb = find(rendered, EAST, "PodDisruptionBudget", "reviews-v2")["spec"]
    assert pdb == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app": "reviews", "version": "v2"}},
    }


def test_deployments_have_explicit_resources_and_selectors(rendered: list[Manifest]) -> None:
    deployments = [m.obj for m in rendered if m.obj["kind"] == "Deployment"]
    assert deployments
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"] == labels
        container = d["spec"]["template"]["spec"]["containers"][0]
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_services_have_named_ports(rendered: list[Manifest]) -> None:
    grpc = find(rendered, EAST, "Service", "recommendations")["spec"]["ports"][0]
    assert grpc == {
        "name": "grpc",
        "port": 9090,
        "targetPort": "grpc",
        "protocol": "TCP",
        "appProtocol": "grpc",
    }


def test_load_balancer_and_outlier_detection_per_profile(rendered: list[Manifest]) -> None:
    dev = find(rendered, DEV, "DestinationRule", "cart")["spec"]["trafficPolicy"]
    assert dev["loadBalancer"] == {"simple": "ROUND_ROBIN"}
    assert "outlierDetection" not in dev
    staging = find(rendered, STAGING, "DestinationRule", "cart")["spec"]["trafficPolicy"]
    assert staging["loadBalancer"] == {"simple": "LEAST_REQUEST"}
    assert staging["outlierDetection"]["consecutive5xxErrors"] == 5


def test_locality_failover_only_across_prod_clusters(rendered: list[Manifest]) -> None:
    prod = find(rendered, EAST, "DestinationRule", "cart")["spec"]["trafficPolicy"]
    assert prod["loadBalancer"]["localityLbSetting"] == {
        "enabled": True,
        "failover": [
            {"from": "us-east-1", "to": "us-west-2"},
            {"from": "us-west-2", "to": "us-east-1"},
        ],
    }
    staging = find(rendered, STAGING, "DestinationRule", "cart")["spec"]["trafficPolicy"]
    assert "localityLbSetting" not in staging["loadBalancer"]


def test_canary_weights_and_subsets(rendered: list[Manifest]) -> None:
    route = find(rendered, EAST, "VirtualService", "reviews")["spec"]["http"][0]["route"]
    assert [(r["destination"]["subset"], r["weight"]) for r in route] == [("v1", 90), ("v2", 10)]
    subsets = find(rendered, EAST, "DestinationRule", "reviews")["spec"]["subsets"]
    assert [s["name"] for s in subsets] == ["v1", "v2"]


def test_bounded_retries_within_timeout(rendered: list[Manifest]) -> None:
    http = find(rendered, EAST, "VirtualService", "checkout")["spec"]["http"]
    assert http == [
        {
            **http[0],
            "timeout": "20s",
            "retries": {
                "attempts": 1,
                "perTryTimeout": "8s",
                "retryOn": "5xx,reset,connect-failure,refused-stream",
            },
        }
    ]


def test_fault_injection_header_gated_in_staging_absent_in_prod(rendered: list[Manifest]) -> None:
    http = find(rendered, STAGING, "VirtualService", "payment")["spec"]["http"]
    assert [r["name"] for r in http] == ["fault-injection", "default"]
    assert http[0]["match"] == [{"headers": {"x-meshops-fault": {"exact": "payment"}}}]
    assert http[0]["fault"]["abort"] == {"httpStatus": 503, "percentage": {"value": 5}}
    assert "fault" not in http[1]
    prod_routes = [
        r
        for m in rendered
        if m.path.startswith("prod/") and m.obj["kind"] == "VirtualService"
        for r in m.obj["spec"].get("http", [])
    ]
    assert prod_routes and not [r for r in prod_routes if "fault" in r]


def test_tracing_sampling_per_profile(rendered: list[Manifest]) -> None:
    rates = [
        find(rendered, p, "Telemetry", "mesh-default")["spec"]["tracing"][0][
            "randomSamplingPercentage"
        ]
        for p in (DEV, STAGING, EAST)
    ]
    assert rates == [100, 10, 1]


def test_external_services_and_egress_gateway(rendered: list[Manifest]) -> None:
    entry = find(rendered, EAST, "ServiceEntry", "stripe")["spec"]
    assert entry["hosts"] == ["api.stripe.com"] and entry["location"] == "MESH_EXTERNAL"
    egress = find(rendered, EAST, "Gateway", "egress")["spec"]["servers"][0]
    assert egress["hosts"] == ["api.sendgrid.com", "api.stripe.com"]
    route = find(rendered, EAST, "VirtualService", "egress-stripe")["spec"]
    assert route["gateways"] == ["mesh", "istio-system/egress"]
    assert "Gateway" not in {k for k in kinds_under(rendered, STAGING) if k == "egress"}
    assert not [
        m
        for m in rendered
        if m.path.startswith(STAGING) and m.obj["metadata"]["name"] == "egress-stripe"
    ]


def test_sidecar_scopes_egress_to_dependencies(rendered: list[Manifest]) -> None:
    spec = find(rendered, EAST, "Sidecar", "payment")["spec"]
    assert spec["egress"] == [{"hosts": ["istio-system/*", "shop/api.stripe.com"]}]
    assert spec["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    dev = find(rendered, DEV, "Sidecar", "default")["spec"]
    assert dev["outboundTrafficPolicy"] == {"mode": "ALLOW_ANY"}


def test_ingress_gateway_and_jwt(rendered: list[Manifest]) -> None:
    gateway = find(rendered, EAST, "Gateway", "ingress")["spec"]
    assert gateway["servers"][0]["tls"] == {"mode": "SIMPLE", "credentialName": "shop-tls"}
    assert find(rendered, EAST, "RequestAuthentication", "ingress-jwt")["spec"]["jwtRules"]
    deny = find(rendered, EAST, "AuthorizationPolicy", "ingress-require-jwt")["spec"]
    assert deny["action"] == "DENY"
    assert "RequestAuthentication" not in kinds_under(rendered, DEV)


def test_multi_cluster_east_west_and_network_labels(rendered: list[Manifest]) -> None:
    assert (
        find(rendered, EAST, "Gateway", "cross-network")["spec"]["servers"][0]["port"]["number"]
        == 15443
    )
    assert "cross-network" not in {
        m.obj["metadata"]["name"] for m in rendered if m.path.startswith(STAGING)
    }
    networks = [
        find(rendered, p, "Namespace", "istio-system")["metadata"]["labels"][
            "topology.istio.io/network"
        ]
        for p in (EAST, WEST)
    ]
    assert networks == ["net-east", "net-west"]
    shop = find(rendered, EAST, "Namespace", "shop")["metadata"]["labels"]
    assert shop["istio.io/rev"] == "1-31"
    assert "istio-injection" not in shop


def test_identical_policy_in_every_primary(rendered: list[Manifest]) -> None:
    def policies(prefix: str) -> dict[str, object]:
        return {
            m.path.removeprefix(prefix): {k: v for k, v in m.obj.items() if k != "metadata"}
            for m in rendered
            if m.path.startswith(prefix + "/")
            and m.obj["kind"] != "Namespace"
            and m.chart != "drift-job"  # the job names the cluster it checks
            and m.obj["metadata"]["name"] != "meshops-drift"  # so do its alerts
        }

    assert policies(EAST) == policies(WEST)


def test_monitoring_alerts_and_dashboard(rendered: list[Manifest]) -> None:
    rule = find(rendered, EAST, "PrometheusRule", "payment-slo")["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rule] == ["PaymentHighErrorRatio", "PaymentHighLatencyP99"]
    assert rule[0]["expr"].endswith("> 0.01")  # the service's own threshold
    assert rule[1]["expr"].endswith("> 3000")
    mesh = find(rendered, EAST, "PrometheusRule", "mesh-slo", "shop")["spec"]["groups"][0]["rules"]
    assert mesh[0]["expr"].endswith("> 0.02")
    dashboard = find(rendered, EAST, "ConfigMap", "grafana-dashboard-shop")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert find(rendered, EAST, "PodMonitor", "envoy-stats", "shop")
    assert find(rendered, EAST, "ServiceMonitor", "istiod")


def test_sync_waves_order_subsets_before_routes_and_workloads_last(
    rendered: list[Manifest],
) -> None:
    def wave(kind: str) -> int:
        obj = next(m.obj for m in rendered if m.obj["kind"] == kind)
        return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])

    assert wave("Namespace") < wave("PeerAuthentication") < wave("DestinationRule")
    assert wave("DestinationRule") < wave("VirtualService") < wave("Deployment")


def test_argocd_bootstrap(rendered: list[Manifest]) -> None:
    appset = find(rendered, "_bootstrap/argocd", "ApplicationSet", "meshops")["spec"]
    git = appset["generators"][0]["git"]
    assert git["directories"] == [
        {"path": "dist/*/*"},
        {"path": "dist/_bootstrap/*", "exclude": True},
    ]
    assert "ServerSideApply=true" in appset["template"]["spec"]["syncPolicy"]["syncOptions"]
    project = find(rendered, "_bootstrap/argocd", "AppProject", "meshops")["spec"]
    assert {d["name"] for d in project["destinations"]} == {
        "dev-1",
        "staging-1",
        "prod-east",
        "prod-west",
        "ambient-1",
    }
    assert project["clusterResourceWhitelist"] == [
        {"group": "", "kind": "Namespace"},
        {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
        {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"},
    ]
    rendered_kinds = {
        (m.obj["apiVersion"].rpartition("/")[0], m.obj["kind"])
        for m in rendered
        if not m.path.startswith("_bootstrap") and "namespace" in m.obj["metadata"]
    }
    allowed = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
    assert rendered_kinds <= allowed


def test_nightly_drift_job_is_read_only(rendered: list[Manifest]) -> None:
    role = find(rendered, EAST, "ClusterRole", "meshops-drift")
    roles = [m.obj for m in rendered if m.path.startswith(EAST) and m.obj["kind"] == "Role"]
    # monitoring: adapter rules; payments, search: the teams sharing prod-east
    managed = {"istio-system", "meshops-system", "monitoring", "shop", "payments", "search"}
    assert {r["metadata"]["namespace"] for r in roles} == managed
    for rules in [role["rules"], *(r["rules"] for r in roles)]:
        assert {verb for rule in rules for verb in rule["verbs"]} == {"get", "list", "watch"}
        assert "secrets" not in {r for rule in rules for r in rule["resources"]}
    assert "gateways" in {r for rule in roles[0]["rules"] for r in rule["resources"]}
    assert "gateways" not in {r for rule in role["rules"] for r in rule["resources"]}
    job = find(rendered, EAST, "CronJob", "meshops-drift")["spec"]
    assert job["schedule"] == "17 3 * * *" and job["concurrencyPolicy"] == "Forbid"
    command = job["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "meshops drift --env prod --cluster prod-east --snapshot" in command
    binding = find(rendered, EAST, "ClusterRoleBinding", "meshops-drift")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "meshops-drift", "namespace": "meshops-system"}
    ]
