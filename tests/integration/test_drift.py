"""Drift on a real API server: every hard case of REFERENCE.md the control plane can produce,
each asserting the exact verdict, path and manager."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charts_py import cli, contract
from charts_py.cluster import controlplane
from charts_py.config import environment
from charts_py.drift import model
from tests.integration.drift_env import Scenario, diverged, payload, results

REPO = Path(__file__).resolve().parents[2]


def test_fresh_sync_is_in_sync_for_every_kind(scenario: Scenario) -> None:
    report = scenario.drift()
    assert report.complete
    assert diverged(report) == {}
    kinds = {r.ref.kind for r in report.results}
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "DestinationRule",
        "VirtualService",
        "AuthorizationPolicy",
        "Sidecar",
        "ServiceEntry",
        "PeerAuthentication",
        "Telemetry",
        "Gateway",
        "PrometheusRule",
        "PodMonitor",
        "ServiceMonitor",
        "ConfigMap",
        "ServiceAccount",
        "CronJob",
        "RequestAuthentication",
    } <= kinds
    assert report.exit_code() == 0


def test_equal_quantities_in_other_spellings_are_in_sync(scenario: Scenario) -> None:
    def spell(obj: dict) -> None:  # type: ignore[type-arg]
        obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {
            "requests": {"cpu": "0.5", "memory": "1024Mi"},
            "limits": {"memory": "1Gi"},
        }

    scenario.edit("Deployment", "cart-v1", spell)
    scenario.sync()  # the server stores 500m / 1Gi
    scenario.commit()
    assert diverged(scenario.drift()) == {}


def test_controllers_writing_replicas_status_and_annotations_are_not_drift(
    scenario: Scenario,
) -> None:
    base = f"/apis/apps/v1/namespaces/{scenario.namespace}/deployments/cart-v1"
    kcm = [("fieldManager", "kube-controller-manager")]
    scenario.kube.request(
        "PATCH",
        base + "/scale",
        query=kcm,
        body={"spec": {"replicas": 5}},
        content_type="application/merge-patch+json",
    )
    scenario.kube.request(
        "PATCH",
        base,
        query=kcm,
        content_type="application/merge-patch+json",
        body={"metadata": {"annotations": {"deployment.kubernetes.io/revision": "3"}}},
    )
    scenario.kube.request(
        "PATCH",
        base + "/status",
        query=kcm,
        content_type="application/merge-patch+json",
        body={"status": {"replicas": 5, "readyReplicas": 5}},
    )
    assert diverged(scenario.drift()) == {}


def test_identical_client_side_apply_is_not_drift(scenario: Scenario) -> None:
    obj = scenario.find("DestinationRule", "cart")
    scenario.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
    assert diverged(scenario.drift()) == {}


def test_kubectl_set_image(scenario: Scenario) -> None:
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    report = scenario.drift()
    result = diverged(report)[("Deployment", "payment-v1")]
    (diff,) = result.differences
    assert (diff.path, diff.change, diff.live, diff.manager, diff.severity) == (
        "/spec/template/spec/containers/0/image",
        "changed",
        "evil:1",
        "kubectl-set",
        "high",
    )
    assert diff.desired == "registry.example.com/shop/payment:2.0.7"
    assert result.confirmed_by == model.DRY_RUN
    assert results(report)[("Service", "cart")].confirmed_by == model.NOT_NEEDED
    assert report.exit_code() == 1


def test_kubectl_scale_where_git_owns_replicas(scenario: Scenario) -> None:
    def fixed(obj: dict) -> None:  # type: ignore[type-arg]
        obj["spec"]["replicas"] = 2

    scenario.edit("Deployment", "cart-v1", fixed)
    scenario.objects = [
        o
        for o in scenario.objects
        if not (o["kind"] == "HorizontalPodAutoscaler" and o["metadata"]["name"] == "cart-v1")
    ]
    scenario.commit()
    scenario.sync()
    scenario.kubectl("scale", "deployment/cart-v1", "--replicas=7")
    (diff,) = diverged(scenario.drift())[("Deployment", "cart-v1")].differences
    assert (diff.path, diff.desired, diff.live, diff.severity) == ("/spec/replicas", 2, 7, "medium")
    assert diff.manager is not None and diff.manager.startswith("kubectl")


def test_kubectl_edit_virtual_service_weights(scenario: Scenario) -> None:
    editor = "sed -i -e 's/weight: 50/weight: 70/' -e '0,/weight: 70/! s/weight: 70/weight: 30/'"
    scenario.kubectl("edit", "virtualservice/reviews", env={"KUBE_EDITOR": editor})
    result = diverged(scenario.drift())[("VirtualService", "reviews")]
    paths = {(d.path, d.desired, d.live, d.manager) for d in result.differences}
    # Route 0 is staging's reviews-latency experiment, route 1 the default: the editor sets
    # the first weight to 70 and every other one to 30.
    assert paths == {
        ("/spec/http/0/route/0/weight", 50, 70, "kubectl-edit"),
        ("/spec/http/0/route/1/weight", 50, 30, "kubectl-edit"),
        ("/spec/http/1/route/0/weight", 50, 30, "kubectl-edit"),
        ("/spec/http/1/route/1/weight", 50, 30, "kubectl-edit"),
    }
    assert result.severity == "high"


def test_peer_authentication_weakened(scenario: Scenario) -> None:
    scenario.kubectl(
        "patch",
        "peerauthentication/default",
        "--type=merge",
        "-p",
        '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}',
    )
    result = diverged(scenario.drift())[("PeerAuthentication", "default")]
    (diff,) = result.differences
    assert (diff.path, diff.desired, diff.live, diff.manager, diff.severity) == (
        "/spec/mtls/mode",
        "STRICT",
        "PERMISSIVE",
        "kubectl-patch",
        "critical",
    )


def test_additions_a_sync_would_keep_are_reported(scenario: Scenario) -> None:
    """Argo CD misses these by design (argo-cd#16771): extra label, env var, rule."""
    scenario.kubectl("label", "service/cart", "team=payments")
    scenario.kubectl(
        "patch",
        "deployment/frontend-v1",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/spec/template/spec/containers/0/env",'
        '"value":[{"name":"DEBUG","value":"1"}]}]',
    )
    found = diverged(scenario.drift())
    (label,) = found[("Service", "cart")].differences
    assert (label.path, label.change, label.live, label.manager, label.severity) == (
        "/metadata/labels/team",
        "added",
        "payments",
        "kubectl-label",
        "low",
    )
    (env,) = found[("Deployment", "frontend-v1")].differences
    assert (env.path, env.change, env.live, env.manager) == (
        "/spec/template/spec/containers/0/env",
        "added",
        [{"name": "DEBUG", "value": "1"}],
        "kubectl-patch",
    )


def test_removed_outlier_detection(scenario: Scenario) -> None:
    scenario.kubectl(
        "patch",
        "destinationrule/reviews",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/spec/trafficPolicy/outlierDetection"}]',
    )
    result = diverged(scenario.drift())[("DestinationRule", "reviews")]
    (diff,) = result.differences
    assert (diff.path, diff.change, diff.live, diff.severity) == (
        "/spec/trafficPolicy/outlierDetection",
        "removed",
        None,
        "high",
    )
    assert diff.desired["consecutive5xxErrors"] == 5


def test_field_removed_from_git_but_still_live(scenario: Scenario) -> None:
    def label(obj: dict) -> None:  # type: ignore[type-arg]
        obj["metadata"]["labels"]["tier"] = "backend"

    scenario.edit("Service", "cart", label)
    scenario.sync()  # applied with the label, then git drops it
    scenario.edit("Service", "cart", lambda o: o["metadata"]["labels"].pop("tier"))
    scenario.commit()
    (diff,) = diverged(scenario.drift())[("Service", "cart")].differences
    assert (diff.path, diff.change, diff.live, diff.manager) == (
        "/metadata/labels/tier",
        "added",
        "backend",
        contract.FIELD_MANAGER,
    )


def test_deleted_extra_and_recreated_objects(scenario: Scenario) -> None:
    scenario.kubectl("delete", "virtualservice/cart")
    extra = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "stray",
            "namespace": scenario.namespace,
            "labels": {
                contract.MANAGED_BY: "meshops",
                contract.ENVIRONMENT: "staging",
                contract.CLUSTER: scenario.cluster,
            },
        },
    }
    scenario.kubectl("create", "-f", "-", stdin=json.dumps(extra))
    sidecar = scenario.find("Sidecar", "cart")
    scenario.kubectl("delete", "sidecar/cart")
    scenario.kubectl("create", "-f", "-", stdin=json.dumps(sidecar))
    found = diverged(scenario.drift())
    assert found[("VirtualService", "cart")].status == "missing"
    assert found[("VirtualService", "cart")].severity == "high"
    assert found[("ConfigMap", "stray")].status == "extra"
    recreated = found[("Sidecar", "cart")]
    assert recreated.status == "modified"
    assert [(d.path, d.manager) for d in recreated.differences] == [
        ("/metadata/managedFields", "kubectl-create")
    ]


def test_api_version_skew_is_not_drift(scenario: Scenario) -> None:
    def older(obj: dict) -> None:  # type: ignore[type-arg]
        obj["apiVersion"] = "networking.istio.io/v1beta1"

    scenario.edit("VirtualService", "cart", older)
    scenario.commit()
    report = scenario.drift()
    assert diverged(report) == {}
    assert results(report)[("VirtualService", "cart")].ref.api_version.endswith("v1beta1")


def test_preserve_unknown_fields_changes_are_found(scenario: Scenario) -> None:
    envoy_filter = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": {
            "name": "buffer",
            "namespace": scenario.namespace,
            "labels": dict(scenario.find("Service", "cart")["metadata"]["labels"]),
        },
        "spec": {
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "patch": {"operation": "MERGE", "value": {"max_request_bytes": 1024}},
                }
            ]
        },
    }
    scenario.commit([*scenario.objects, envoy_filter])
    scenario.sync()
    scenario.kubectl(
        "patch",
        "envoyfilter/buffer",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/configPatches/0/patch/value/'
        'max_request_bytes","value":9999}]',
    )
    result = diverged(scenario.drift())[("EnvoyFilter", "buffer")]
    (diff,) = result.differences
    assert (diff.path, diff.desired, diff.live) == (
        "/spec/configPatches/0/patch/value/max_request_bytes",
        1024,
        9999,
    )


def test_secret_values_never_leave_the_report(scenario: Scenario) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": "api-key",
            "namespace": scenario.namespace,
            "labels": dict(scenario.find("Service", "cart")["metadata"]["labels"]),
        },
        "stringData": {"key": "hunter2-original"},
    }
    scenario.commit([*scenario.objects, secret])
    scenario.sync()
    assert diverged(scenario.drift()) == {}  # stringData in git vs data live: equal values
    scenario.kubectl(
        "patch", "secret/api-key", "--type=merge", "-p", '{"stringData":{"key":"hunter3-changed"}}'
    )
    report = scenario.drift()
    text = payload(report)
    for value in (
        "hunter2-original",
        "hunter3-changed",
        "aHVudGVyMi1vcmlnaW5hbA==",
        "aHVudGVyMy1jaGFuZ2Vk",
    ):
        assert value not in text
    result = diverged(report)[("Secret", "api-key")]
    assert result.status == "modified"
    assert "<masked:" in text


def test_forbidden_kind_is_unknown_never_clean(
    scenario: Scenario, control_plane: controlplane.LocalCluster, tmp_path: Path
) -> None:
    """A reader that may list everything but AuthorizationPolicies: incomplete, exit 2."""
    config = _service_account_kubeconfig(
        scenario, control_plane, tmp_path, skip="authorizationpolicies"
    )
    report = scenario.drift(kubeconfig=str(config))
    unknown = [r for r in report.results if r.status == "unknown"]
    assert unknown and {r.ref.kind for r in unknown} == {"AuthorizationPolicy"}
    assert "forbidden" in (unknown[0].error or "").lower()
    assert not report.complete and report.exit_code() == 2


def test_read_only_job_identity_still_finds_hand_edits(
    scenario: Scenario, control_plane: controlplane.LocalCluster, tmp_path: Path
) -> None:
    """The nightly job's ClusterRole (get/list/watch) cannot dry-run: the local comparison
    must give the same verdicts."""
    config = _service_account_kubeconfig(scenario, control_plane, tmp_path, skip=None)
    assert diverged(scenario.drift(kubeconfig=str(config))) == {}
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    report = scenario.drift(kubeconfig=str(config))
    result = diverged(report)[("Deployment", "payment-v1")]
    assert result.confirmed_by == model.FORBIDDEN  # said so, not a silent fallback
    assert report.to_json()["confirmedBy"]["localReasons"]["forbidden"] == 1
    (diff,) = result.differences
    assert (diff.path, diff.live, diff.manager) == (
        "/spec/template/spec/containers/0/image",
        "evil:1",
        "kubectl-set",
    )
    assert report.complete
    # Roles only: extra objects outside the managed namespaces could not be sought, and
    # the report says so instead of pretending it looked.
    assert any("not searched" in note for note in report.notes)


def test_live_dir_dump(scenario: Scenario, tmp_path: Path) -> None:
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    dump = tmp_path / "dump"
    dump.mkdir()
    for kind in ("deployments", "services", "virtualservices", "destinationrules"):
        (dump / f"{kind}.yaml").write_text(scenario.kubectl("get", kind, "-o", "yaml"))
    report = scenario.drift(live_dir=dump)
    found = diverged(report)
    assert found[("Deployment", "payment-v1")].differences[0].live == "evil:1"
    assert found[("Sidecar", "cart")].status == "missing"  # not in the dump


def test_cli_exit_codes_and_bad_ref(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    base = scenario.cli_args("--format", "json")
    assert cli.main(base) == 0
    assert json.loads(capsys.readouterr().out)["complete"] is True
    scenario.kubectl("label", "service/cart", "team=x")
    assert cli.main(base) == 1
    assert cli.main([*base, "--ref", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "--ref" in err and "no-such-branch" in err and "Traceback" not in err


def test_unreachable_server(
    scenario: Scenario,
    control_plane: controlplane.LocalCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "kubeconfig"
    controlplane.write_kubeconfig(
        config,
        f"https://127.0.0.1:{controlplane.free_port()}",
        Path(control_plane.state_dir) / "pki" / "ca.crt",
        "x",
    )
    code = cli.main(scenario.cli_args(kubeconfig=str(config)))
    assert code == 2
    said = capsys.readouterr()
    assert "meshops: error:" in said.err
    assert "run error: could not read the cluster: " in said.out  # the report says why


def _service_account_kubeconfig(
    scenario: Scenario, control_plane: controlplane.LocalCluster, tmp_path: Path, skip: str | None
) -> Path:
    """A kubeconfig for a ServiceAccount with the drift job's generated RBAC (a Role in the
    scenario's namespace, the ClusterRole for cluster-scoped kinds; minus one resource when
    `skip` is set), with a token from the TokenRequest API."""
    from charts_py.constructs.drift_job import cluster_rules, namespaced_rules

    kube, ns = scenario.kube, scenario.namespace
    name = f"reader-{skip or 'all'}"
    staging = environment.load_all(REPO / "environments")["staging"]  # the scenario's objects
    rules = [
        {**r, "resources": [x for x in r["resources"] if x != skip]}
        for r in namespaced_rules(staging)
    ]
    kube.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}},
        field_manager="tests",
    )
    rbac = "rbac.authorization.k8s.io/v1"
    subjects = [{"kind": "ServiceAccount", "name": name, "namespace": ns}]
    for kind, meta, body in (
        ("Role", {"name": name, "namespace": ns}, {"rules": rules}),
        ("ClusterRole", {"name": f"{ns}-{name}"}, {"rules": cluster_rules()}),
    ):
        kube.apply(
            {"apiVersion": rbac, "kind": kind, "metadata": meta, **body}, field_manager="tests"
        )
        binding = {
            "apiVersion": rbac,
            "kind": f"{kind}Binding",
            "metadata": meta,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": kind,
                "name": meta["name"],
            },
            "subjects": subjects,
        }
        kube.apply(binding, field_manager="tests")
    token = kube.request(
        "POST",
        f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 600},
        },
    )
    config = tmp_path / f"{name}.kubeconfig"
    controlplane.write_kubeconfig(
        config,
        control_plane.server,
        Path(control_plane.state_dir) / "pki" / "ca.crt",
        token["status"]["token"],
    )
    return config


def test_snapshot_commits_report_and_masked_live_objects(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    import git

    repo = git.Repo(scenario.repo)
    (scenario.repo / "uncommitted.txt").write_text("work in progress\n")
    head, status = repo.head.commit.hexsha, repo.git.status("--porcelain")
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    args = scenario.cli_args("--snapshot", "--format", "markdown")
    assert cli.main(args) == 1
    assert "payment-v1" in capsys.readouterr().out
    tree = repo.commit("meshops/snapshots").tree
    (run_folder,) = [t for t in (tree / "staging" / scenario.cluster).trees]
    names = {b.name for b in run_folder.blobs}
    assert {"report.json", "report.md"} <= names
    assert f"Deployment.apps.{scenario.namespace}.payment-v1.yaml" in names
    report = json.loads((run_folder / "report.json").data_stream.read())
    assert report["summary"]["modified"] == 1 and report["git"]["commit"] == head
    # The checked-out branch, the index and the working tree are untouched.
    assert repo.head.commit.hexsha == head and repo.active_branch.name == "main"
    assert repo.git.status("--porcelain") == status


def test_text_output_lists_divergent_objects(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario.kubectl("label", "service/cart", "team=x")
    code = cli.main(scenario.cli_args("--details"))
    out = capsys.readouterr().out
    assert code == 1
    assert "cart" in out and "/metadata/labels/team" in out and "kubectl-label" in out


def test_argocd_tracking_label_is_not_drift(scenario: Scenario) -> None:
    """Argo CD's label tracking adds app.kubernetes.io/instance to everything it applies."""
    committed = [json.loads(json.dumps(o)) for o in scenario.objects]
    for obj in scenario.objects:
        obj["metadata"]["labels"]["app.kubernetes.io/instance"] = "meshops-staging-x"
    scenario.sync()
    scenario.commit(committed)
    assert diverged(scenario.drift()) == {}
    scenario.kubectl("label", "service/cart", "app.kubernetes.io/instance=hand", "--overwrite")
    (diff,) = diverged(scenario.drift())[("Service", "cart")].differences
    assert (diff.path, diff.live, diff.manager) == (
        "/metadata/labels/app.kubernetes.io~1instance",
        "hand",
        "kubectl-label",
    )


def test_object_whose_labels_were_edited_away_is_still_found(scenario: Scenario) -> None:
    """Found by the unfiltered LIST of its namespace, not reported missing."""
    scenario.kubectl("label", "service/cart", f"{contract.CLUSTER}-")
    result = diverged(scenario.drift())[("Service", "cart")]
    assert result.status == "modified"
    assert [(d.path, d.change) for d in result.differences] == [
        ("/metadata/labels/meshops.dev~1cluster", "removed")
    ]
