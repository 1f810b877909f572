"""The generated bootstrap in real Argo CD: what it generates, what syncs, what waits.

Applications whose source is not the local git server (the Istio Helm charts, hosted on
the internet) cannot sync here: they are expected unreachable and listed as such. Every
other Application must sync. Tests run in file order and share one sandbox; the last one
edits prod-west by hand, so it runs after the drift check of prod-east.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, contract, kubeapi
from charts_py.cluster import binaries, sandbox
from charts_py.drift import defaults
from tests.e2e.conftest import REPO, applications, git, wait_for

MESH_CONFIG = (
    "DestinationRule",
    "VirtualService",
    "PeerAuthentication",
    "AuthorizationPolicy",
    "RequestAuthentication",
    "Sidecar",
    "Telemetry",
    "ServiceEntry",
    "Gateway",
)
CANARY = "prod/prod-east/services/VirtualService.networking.istio.io.shop.reviews.yaml"
GATEWAY_API_INGRESS = [("staging", "staging-1"), ("ambient", "ambient-1")]
"""Environments whose ingress is Gateway API (`ingress.api: gateway-api`): in the sidecar
data plane, and in ambient (with waypoints and GAMMA routes beside it)."""


def sources(app: dict[str, Any]) -> list[str]:
    spec = app["spec"]
    return [s["repoURL"] for s in ([spec["source"]] if "source" in spec else spec["sources"])]


def local(app: dict[str, Any], gitops: sandbox.Sandbox) -> bool:
    return all(url == gitops.repo_url for url in sources(app))


def expected_names(served: Path) -> set[str]:
    """One Application per dist/<env>/<cluster>, one per team and cluster folder holding its
    namespaces, plus those the bootstrap declares itself."""
    per_cluster = {
        f"meshops-{p.parent.name}-{p.name}"
        for p in (served / "dist").glob("*/*")
        if p.is_dir() and p.parent.name != contract.BOOTSTRAP_DIR
    }
    objects = [
        o
        for f in (served / "dist" / contract.BOOTSTRAP_DIR).rglob("*.yaml")
        for o in yaml.safe_load_all(f.read_text())
        if o
    ]
    declared = {o["metadata"]["name"] for o in objects if o["kind"] == "Application"}
    per_team = {
        f"{o['metadata']['name']}-{e['env']}-{e['cluster']}"
        for o in objects
        if o["kind"] == "ApplicationSet"
        for g in o["spec"]["generators"]
        for e in g.get("list", {}).get("elements", [])
    }
    return per_cluster | per_team | declared


def synced(app: dict[str, Any], revision: str | None = None) -> bool:
    status = app.get("status") or {}
    operation = status.get("operationState") or {}
    done = (
        status.get("sync", {}).get("status") == "Synced" and operation.get("phase") == "Succeeded"
    )
    return done and (
        revision is None or operation.get("syncResult", {}).get("revision") == revision
    )


def sync_errors(app: dict[str, Any]) -> list[str]:
    status = app.get("status") or {}
    results = (status.get("operationState") or {}).get("syncResult", {}).get("resources", [])
    failed = [
        f"{r['kind']}/{r['name']}: {r.get('message')}" for r in results if r["status"] != "Synced"
    ]
    errors = [c["message"] for c in status.get("conditions", []) if c["type"].endswith("Error")]
    return failed + errors


def spoke(gitops: sandbox.Sandbox, cluster: str) -> kubeapi.Cluster:
    return kubeapi.Cluster.connect(gitops.clusters[cluster])


def dist_objects(served: Path, folder: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    files = sorted((served / "dist" / folder).rglob("*.yaml"))
    return [o for f in files for o in [yaml.safe_load(f.read_text())] if o["kind"] in kinds]


def test_applicationset_yields_exactly_the_expected_applications(
    argo: kubeapi.Cluster, served: Path
) -> None:
    expected = expected_names(served)
    found = wait_for("the Applications", lambda: set(applications(argo)) >= expected or None)
    assert set(applications(argo)) == expected, found


def test_applications_of_the_local_repository_sync_without_errors(
    argo: kubeapi.Cluster, gitops: sandbox.Sandbox
) -> None:
    apps = applications(argo)
    ours = sorted(n for n, a in apps.items() if local(a, gitops))
    unreachable = sorted(set(apps) - set(ours))
    print(f"expected unreachable (sources not on the local git server): {unreachable or 'none'}")
    assert [n for n in ours if n.startswith("meshops-prod-")], ours

    def all_synced() -> bool:
        now = applications(argo)
        return all(synced(now[n]) for n in ours)

    wait_for(f"{', '.join(ours)} to be Synced", all_synced)
    now = applications(argo)
    assert {n: sync_errors(now[n]) for n in ours} == {n: [] for n in ours}
    for name in unreachable:
        assert now[name]["status"].get("sync", {}).get("status") != "Synced", name


def test_mesh_config_syncs_while_no_workload_is_healthy(
    argo: kubeapi.Cluster, gitops: sandbox.Sandbox, served: Path
) -> None:
    app = applications(argo)["meshops-prod-prod-east"]
    health = {
        (r["kind"], r["name"]): r.get("health", {}).get("status")
        for r in app["status"]["resources"]
        if r["kind"] == "Deployment"
    }
    # No nodes, so no pod: Argo CD's default check keeps every Deployment Progressing.
    assert len(health) > 5 and set(health.values()) == {"Progressing"}, health
    assert app["status"]["health"]["status"] == "Progressing"
    east = spoke(gitops, "prod-east")
    mesh = dist_objects(served, "prod/prod-east", MESH_CONFIG)
    assert len(mesh) > 20
    print(
        f"prod-east: {len(mesh)} mesh-config objects applied; {len(health)} Deployments Progressing"
    )
    for obj in mesh:
        res = east.resource(obj["apiVersion"], obj["kind"])
        east.request("GET", res.path(obj["metadata"].get("namespace"), obj["metadata"]["name"]))


@pytest.mark.parametrize(("env", "cluster"), GATEWAY_API_INGRESS)
def test_a_gateway_api_ingress_syncs_though_no_istiod_programs_it(
    argo: kubeapi.Cluster, gitops: sandbox.Sandbox, served: Path, env: str, cluster: str
) -> None:
    """`ingress.api: gateway-api`: the Gateway and HTTPRoutes are applied on the spoke (whose
    Gateway API CRDs `meshops cluster up` installed), and, with no istiod to set their status,
    Argo CD keeps them Progressing without holding up the sync (they sync in the last wave)."""
    app = applications(argo)[f"meshops-{env}-{cluster}"]
    assert synced(app), sync_errors(app)
    health = {
        (r["kind"], r["name"]): r.get("health", {}).get("status")
        for r in app["status"]["resources"]
        if r.get("group") == "gateway.networking.k8s.io"
    }
    assert ("Gateway", "ingress") in health, health
    assert {h for (kind, _), h in health.items() if kind == "Gateway"} == {"Progressing"}
    target = spoke(gitops, cluster)
    objects = [
        o
        for o in dist_objects(served, f"{env}/{cluster}", ("Gateway", "HTTPRoute"))
        if o["apiVersion"].startswith("gateway.networking.k8s.io/")
    ]
    assert {o["kind"] for o in objects} == {"Gateway", "HTTPRoute"}
    for obj in objects:
        res = target.resource(obj["apiVersion"], obj["kind"])
        live = target.request(
            "GET", res.path(obj["metadata"]["namespace"], obj["metadata"]["name"])
        )
        if obj["metadata"]["name"].startswith("ingress"):  # the ingress's, as git says
            assert live["spec"] == defaults.fill(obj)["spec"], obj["metadata"]["name"]


def test_an_ambient_environment_syncs_though_no_istiod_programs_its_waypoints(
    argo: kubeapi.Cluster, gitops: sandbox.Sandbox, served: Path
) -> None:
    """The sample `ambient` (namespaces shop and search ambient, legacy on sidecars): its
    waypoints, HTTPRoutes and GRPCRoute land on the spoke as git has them, Progressing (no
    istiod writes their status) without holding up the sync, in the platform's Application
    and in team search's."""
    apps = applications(argo)
    for name in ("meshops-ambient-ambient-1", "meshops-search-ambient-ambient-1"):
        assert synced(apps[name]), sync_errors(apps[name])
    target = spoke(gitops, "ambient-1")
    objects = [
        o
        for o in dist_objects(served, "ambient/ambient-1", ("Gateway", "HTTPRoute", "GRPCRoute"))
        if o["apiVersion"].startswith("gateway.networking.k8s.io/")
    ]
    assert {o["kind"] for o in objects} == {"Gateway", "HTTPRoute", "GRPCRoute"}
    # and the ingress's Gateway API Gateway in istio-system (ingress.api: gateway-api)
    assert {o["metadata"]["namespace"] for o in objects} == {"shop", "search", "istio-system"}
    for obj in objects:
        res = target.resource(obj["apiVersion"], obj["kind"])
        live = target.request(
            "GET", res.path(obj["metadata"]["namespace"], obj["metadata"]["name"])
        )
        assert live["spec"] == defaults.fill(obj)["spec"], obj["metadata"]["name"]
    namespace = target.request("GET", "/api/v1/namespaces/shop")
    assert namespace["metadata"]["labels"]["istio.io/dataplane-mode"] == "ambient"
    health = {
        (r["kind"], r["name"]): r.get("health", {}).get("status")
        for r in apps["meshops-ambient-ambient-1"]["status"]["resources"]
        if r.get("group") == "gateway.networking.k8s.io" and r["kind"] == "Gateway"
    }
    # the shop's waypoint, and the ingress's Gateway (ingress.api: gateway-api)
    assert health == {
        ("Gateway", "waypoint"): "Progressing",
        ("Gateway", "ingress"): "Progressing",
    }, health


def test_a_weight_change_syncs_while_workloads_are_unhealthy(
    argo: kubeapi.Cluster, gitops: sandbox.Sandbox, served: Path
) -> None:
    file = served / "dist" / CANARY
    text = file.read_text()
    assert "weight: 90" in text and "weight: 10" in text
    drained = {"90": "100", "10": "0"}
    file.write_text(
        re.sub(r"weight: (90|10)$", lambda m: f"weight: {drained[m[1]]}", text, flags=re.M)
    )
    git(served, "commit", "-q", "-am", "drain the reviews canary")
    revision = git(served, "rev-parse", "HEAD")
    hard = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}
    path = argo.resource("argoproj.io/v1alpha1", "Application").path(
        "argocd", "meshops-prod-prod-east"
    )
    argo.request("PATCH", path, body=hard, content_type="application/merge-patch+json")
    east = spoke(gitops, "prod-east")
    vs = east.resource("networking.istio.io/v1", "VirtualService").path("shop", "reviews")

    def applied() -> bool:
        live = east.request("GET", vs)["spec"]["http"][0]["route"]
        return [r.get("weight", 0) for r in live] == [100, 0]

    wait_for("the weight change in prod-east", applied, timeout=240)
    wait_for(
        "prod-east Synced at the new commit",
        lambda: synced(applications(argo)["meshops-prod-prod-east"], revision),
        timeout=240,
    )


def test_drift_is_in_sync_on_the_argo_synced_cluster(
    gitops: sandbox.Sandbox, served: Path, tmp_path: Path
) -> None:
    output = tmp_path / "drift.json"
    argv = ["drift", "--env", "prod", "--cluster", "prod-east", "--repo", str(served)]
    argv += ["--kubeconfig", gitops.clusters["prod-east"], "--format", "json"]
    code = cli.main([*argv, "--output", str(output)])
    report = json.loads(output.read_text())
    assert code == 0, report["summary"]
    summary = report["summary"]
    print(f"meshops drift prod/prod-east after Argo CD's sync: {summary}")
    assert summary["objects"] > 100 and summary["in-sync"] == summary["objects"], summary


def test_side_by_side_table_of_hand_edits(gitops: sandbox.Sandbox) -> None:
    script = REPO / "scripts" / "argocd_side_by_side.py"
    done = subprocess.run(
        [sys.executable, str(script), "--sandbox", gitops.state_dir, "--cluster", "prod-west"],
        capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    print(done.stdout)  # docs/argocd.md quotes this table
    rows = {
        line.split("|")[1].strip(): line for line in done.stdout.splitlines()[2:] if "|" in line
    }
    assert "OutOfSync" in rows["PeerAuthentication mTLS STRICT -> PERMISSIVE"]
    assert "modified" in rows["PeerAuthentication mTLS STRICT -> PERMISSIVE"]
    for edit in ("extra env var", "extra label", "extra Service port", "extra annotation"):
        row = rows[next(k for k in rows if edit in k)]
        assert "Synced" in row and "modified" in row, row


def test_propose_revert_says_what_an_argo_cd_sync_keeps(
    gitops: sandbox.Sandbox, served: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the side-by-side edits self-heal is on again: real Argo CD writes back the field
    git sets (the mTLS mode) and keeps the env var another manager added. `propose --revert`
    says the same, and the command it gives removes the env var."""
    target = spoke(gitops, "prod-west")
    mtls = target.resource("security.istio.io/v1", "PeerAuthentication")
    wait_for(
        "Argo CD's self-heal to write mTLS STRICT back on prod-west",
        lambda: (
            target.request("GET", mtls.path("istio-system", "default"))["spec"]["mtls"]["mode"]
            == "STRICT"
        ),
        timeout=240,
    )
    deployment = target.resource("apps/v1", "Deployment").path("shop", "payment-v1")

    def env_names() -> list[str]:
        [container] = target.request("GET", deployment)["spec"]["template"]["spec"]["containers"]
        return [e["name"] for e in container.get("env", [])]

    assert "DEBUG" in env_names()  # Argo CD synced the app and kept it
    kubeconfig = gitops.clusters["prod-west"]
    capsys.readouterr()
    code = cli.main([
        "propose", "--env", "prod", "--cluster", "prod-west", "--revert", "--format", "json",
        "--repo", str(served), "--kubeconfig", kubeconfig,
    ])  # fmt: skip
    plan = json.loads(capsys.readouterr().out)
    assert code == 0, plan
    kinds = {r["kind"] for r in plan["reverts"]}
    assert "PeerAuthentication" not in kinds, kinds  # healed: nothing left to revert
    [step] = [r for r in plan["reverts"] if r["name"] == "payment-v1"]
    assert step["bySync"] is False and "will NOT remove it" in step["how"], step
    argv = shlex.split(step["command"])
    assert argv[0] == "kubectl", argv
    kubectl = str(binaries.locate() / "kubectl")
    subprocess.run([kubectl, "--kubeconfig", kubeconfig, *argv[1:]], check=True, timeout=60)
    assert "DEBUG" not in env_names()
