"""Teams and namespaces: a platform file and teams' files, calls across namespaces, one Argo CD
project per team, drift's reach, and pods that someone else deploys."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli
from charts_py.charts import bootstrap
from charts_py.config import environment, schema
from charts_py.constructs import drift_job
from charts_py.errors import ConfigError
from charts_py.render.manifest import Manifest
from charts_py.validate.rules import argocd
from tests.conftest import REPO, SAMPLE_ENVIRONMENTS, find, kinds_under, sample, write_envs


def team_env(tmp_path: Path, sample_env: str = "prod", **teams: dict[str, Any]) -> Path:
    """The sample environment `sample_env` with `teams` (its own replaced), each
    `{namespaces: {...}, file: {...}}`."""
    data = sample(sample_env)
    data["teams"] = {name: {"namespaces": team["namespaces"]} for name, team in teams.items()}
    envs = write_envs(tmp_path / "envs", **{sample_env: data})
    (envs / sample_env).mkdir()
    for name, team in teams.items():
        if "file" in team:
            (envs / sample_env / f"{name}.yaml").write_text(yaml.safe_dump(team["file"]))
    return envs


def service(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": f"registry.example.com/{name}:1.0.0", **fields}


def load(envs: Path) -> environment.Environment:
    return environment.load(envs / "prod.yaml")


def test_two_teams_share_prod_east_each_in_its_own_file(rendered: list[Manifest]) -> None:
    env = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    owners = {ns.name: (ns.team, Path(ns.file).name) for ns in env.namespaces}
    assert owners == {
        "shop": (None, "prod.yaml"),
        "payments": ("payments", "payments.yaml"),
        "search": ("search", "search.yaml"),
    }
    for ns in ("payments", "search"):
        find(rendered, "prod/prod-east", "Namespace", ns)
        find(rendered, "prod/prod-east", "AuthorizationPolicy", "allow-nothing", ns)
        find(rendered, "prod/prod-east", "Sidecar", "default", ns)
    assert kinds_under(rendered, "prod/prod-east")["Namespace"] >= 4
    fraud = find(rendered, "prod/prod-east", "Deployment", "fraud-v1")
    assert fraud["metadata"]["namespace"] == "payments"


def test_a_call_across_namespaces_scopes_the_sidecar_and_admits_the_caller(
    rendered: list[Manifest],
) -> None:
    indexer = find(rendered, "prod/prod-east", "Sidecar", "indexer")
    assert "shop/catalog.shop.svc.cluster.local" in indexer["spec"]["egress"][0]["hosts"]
    assert "search/query.search.svc.cluster.local" in indexer["spec"]["egress"][0]["hosts"]
    catalog = find(rendered, "prod/prod-east", "AuthorizationPolicy", "catalog")
    principals = catalog["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert "cluster.local/ns/search/sa/indexer" in principals
    fraud = find(rendered, "prod/prod-east", "Sidecar", "fraud")
    assert fraud["spec"]["egress"][0]["hosts"] == [
        "istio-system/*",
        "search/query.search.svc.cluster.local",
    ]


def test_each_team_gets_a_project_limited_to_its_namespaces(rendered: list[Manifest]) -> None:
    project = find(rendered, "_bootstrap", "AppProject", "meshops-payments")
    assert {d["namespace"] for d in project["spec"]["destinations"]} == {"payments"}
    assert "clusterResourceWhitelist" not in project["spec"]
    platform = find(rendered, "_bootstrap", "AppProject", "meshops")
    assert not {"payments", "search"} & {d["namespace"] for d in platform["spec"]["destinations"]}
    apps = find(rendered, "_bootstrap", "ApplicationSet", "meshops-payments")
    assert apps["spec"]["template"]["spec"]["project"] == "meshops-payments"


def test_team_and_platform_applications_partition_every_cluster_folder(
    rendered: list[Manifest],
) -> None:
    """Every object of dist/prod/prod-east is synced by exactly one Application, and a team's
    Application syncs only objects of its namespaces."""
    include = {
        team: find(rendered, "_bootstrap", "ApplicationSet", f"meshops-{team}")["spec"]["template"][
            "spec"
        ]["source"]["directory"]["include"]
        for team in ("payments", "search")
    }
    platform = find(rendered, "_bootstrap", "ApplicationSet", "meshops")
    exclude = platform["spec"]["template"]["spec"]["source"]["directory"]["exclude"]
    for m in rendered:
        if not m.path.startswith("prod/prod-east/"):
            continue
        relative = m.path.removeprefix("prod/prod-east/")
        synced_by = [t for t, pattern in include.items() if argocd.argocd_glob(pattern, relative)]
        if not argocd.argocd_glob(exclude, relative):
            synced_by.append("platform")
        assert len(synced_by) == 1, (m.path, synced_by)
        namespace = m.obj["metadata"].get("namespace")
        assert synced_by[0] == "platform" or namespace == synced_by[0], m.path


def test_the_argo_glob_spans_folders_and_takes_alternatives() -> None:
    assert argocd.argocd_glob("*.pay.*.yaml", "services/Service.core.pay.ledger.yaml")
    assert argocd.argocd_glob("{*.a.*.yaml,*.b.*.yaml}", "x/Service.core.b.y.yaml")
    assert not argocd.argocd_glob("{*.a.*.yaml,*.b.*.yaml}", "x/Service.core.c.y.yaml")
    assert fnmatch.fnmatchcase("a/b", "*")  # what argocd_glob relies on


def test_drift_reads_and_is_granted_every_team_namespace() -> None:
    env = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    assert {"shop", "payments", "search"} <= set(drift_job.managed_namespaces(env))


def test_a_team_file_may_describe_only_its_own_namespaces(tmp_path: Path) -> None:
    envs = team_env(
        tmp_path,
        payments={
            "namespaces": ["payments"],
            "file": {"namespaces": [{"name": "search", "services": [service("q")]}]},
        },
        search={"namespaces": ["search"]},
    )
    with pytest.raises(ConfigError) as caught:
        load(envs)
    assert str(caught.value) == (
        f"{envs}/prod/payments.yaml:2: namespaces[0].name: namespace 'search' is not team "
        "payments's (it owns ['payments'])"
    )


def test_a_team_file_without_a_declared_team_is_refused(tmp_path: Path) -> None:
    envs = team_env(tmp_path, payments={"namespaces": ["payments"]})
    (envs / "prod" / "rogue.yaml").write_text("namespaces: [{name: payments}]\n")
    with pytest.raises(ConfigError, match=r"rogue\.yaml:1: team 'rogue' is not declared"):
        load(envs)


def test_a_namespace_owned_twice_is_refused(tmp_path: Path) -> None:
    envs = team_env(tmp_path, a={"namespaces": ["pay"]}, b={"namespaces": ["pay"]})
    with pytest.raises(ConfigError, match=r"teams\.b\.namespaces\[0\]: namespace 'pay' is"):
        load(envs)


def test_a_team_namespace_may_not_be_named_like_an_api_group_segment(tmp_path: Path) -> None:
    envs = team_env(tmp_path, a={"namespaces": ["istio"]})
    with pytest.raises(ConfigError, match="may not be named 'istio'"):
        load(envs)


def test_an_unknown_call_names_the_team_file_and_line(tmp_path: Path) -> None:
    team = {"namespaces": [{"name": "pay", "services": [service("a", calls=["shop/nope"])]}]}
    envs = team_env(tmp_path, pay={"namespaces": ["pay"], "file": team})
    with pytest.raises(ConfigError) as caught:
        load(envs)
    assert str(caught.value) == (
        f"{envs}/prod/pay.yaml:5: namespaces[0].services[0].calls[0]: unknown service 'shop/nope'"
    )


def test_a_bad_field_in_a_team_file_names_file_line_and_field(tmp_path: Path) -> None:
    team = {"namespaces": [{"name": "pay", "services": [service("a", timeout="soon")]}]}
    envs = team_env(tmp_path, pay={"namespaces": ["pay"], "file": team})
    with pytest.raises(
        ConfigError,
        match=r"pay\.yaml:6: namespaces\[0\]\.services\[0\]\.timeout: String should match",
    ):
        load(envs)


def test_services_of_two_namespaces_may_share_a_name(tmp_path: Path) -> None:
    team = {
        "namespaces": [{"name": "pay", "services": [service("catalog", calls=["shop/catalog"])]}]
    }
    envs = team_env(tmp_path, pay={"namespaces": ["pay"], "file": team})
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(tmp_path / "d")]) == 0
    services = tmp_path / "d/prod/prod-east/services"
    assert (services / "VirtualService.networking.istio.io.pay.catalog.yaml").is_file()
    assert (services / "VirtualService.networking.istio.io.shop.catalog.yaml").is_file()


def test_the_single_file_form_has_one_namespace_and_no_team_project() -> None:
    env = environment.load(SAMPLE_ENVIRONMENTS / "dev.yaml")
    assert [(ns.name, ns.team) for ns in env.namespaces] == [("shop", None)]
    assert bootstrap.team_reach([env]) == {}


def test_the_committed_team_schema_is_current() -> None:
    assert schema.TEAM_SCHEMA_FILE.read_text() == schema.team_text()


# Pods someone else deploys


def test_pods_deployed_by_others_get_the_mesh_layer_only(rendered: list[Manifest]) -> None:
    ledger = [
        m.obj["kind"]
        for m in rendered
        if m.path.startswith("prod/prod-east/")
        and m.obj["metadata"].get("namespace") == "payments"
        and m.obj["metadata"]["name"] in ("ledger", "ledger-v1", "ledger-slo")
    ]
    assert sorted(ledger) == [
        "DestinationRule",
        "PrometheusRule",
        "Service",
        "Sidecar",
        "VirtualService",
    ]
    service_obj = find(rendered, "prod/prod-east", "Service", "ledger")
    assert service_obj["spec"]["selector"] == {"app.kubernetes.io/name": "ledger"}
    rule = find(rendered, "prod/prod-east", "DestinationRule", "ledger")
    assert rule["spec"]["subsets"] == [
        {"name": "v1", "labels": {"app.kubernetes.io/name": "ledger"}}
    ]
    fraud = find(rendered, "prod/prod-east", "AuthorizationPolicy", "fraud")
    principals = fraud["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert principals == ["cluster.local/ns/payments/sa/payments-ledger"]


def workload(**fields: Any) -> dict[str, Any]:
    return {"deployedBy": "helm", "selector": {"app": "x"}, **fields}


def test_their_own_service_is_not_rendered_and_an_hpa_only_when_asked(tmp_path: Path) -> None:
    theirs = {"name": "x", "workload": workload(service="theirs")}
    scaled = {
        "name": "y",
        "workload": workload(deployment="y-deploy"),
        "autoscaling": {"min": 2, "max": 5},
    }
    team = {"namespaces": [{"name": "pay", "services": [theirs, scaled]}]}
    envs = team_env(tmp_path, pay={"namespaces": ["pay"], "file": team})
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(tmp_path / "d")]) == 0
    files = {p.name for p in (tmp_path / "d/prod/prod-east/services").iterdir()}
    assert "Service.core.pay.x.yaml" not in files
    assert "VirtualService.networking.istio.io.pay.x.yaml" in files
    assert "HorizontalPodAutoscaler.autoscaling.pay.y-deploy.yaml" in files
    assert not any(
        f.startswith(("Deployment.apps.pay.", "ServiceAccount.core.pay.")) for f in files
    )


def test_a_service_needs_an_image_or_a_workload(tmp_path: Path) -> None:
    data = sample("prod")
    del data["services"][0]["image"]
    with pytest.raises(
        ConfigError, match=r"prod\.yaml:\d+: services\[0\]: set `image`, or `workload`"
    ):
        environment.load(write_envs(tmp_path, prod=data) / "prod.yaml")


def test_autoscaling_pods_of_others_needs_their_deployment(tmp_path: Path) -> None:
    team = {
        "namespaces": [
            {
                "name": "pay",
                "services": [
                    {"name": "x", "workload": workload(), "autoscaling": {"min": 1, "max": 2}}
                ],
            }
        ]
    }
    envs = team_env(tmp_path, pay={"namespaces": ["pay"], "file": team})
    with pytest.raises(ConfigError, match=r"services\[0\]\.workload: autoscaling pods"):
        load(envs)


def test_a_namespace_has_one_owner_across_environments(tmp_path: Path) -> None:
    prod = sample("prod")
    prod["teams"] = {"pay": {"namespaces": ["pay"]}}
    staging = sample("staging")
    staging["namespaces"] = [{"name": "pay"}]
    envs = write_envs(tmp_path / "envs", prod=prod, staging=staging)
    with pytest.raises(ConfigError, match=r"namespace 'pay' is team pay's in .*one owner"):
        environment.load_all(envs)


def test_validate_judges_team_objects_against_the_team_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The team's Application syncs its namespace's files (directory.include of a list
    generator's folders): a project that does not admit the namespace is an error there."""
    dist = tmp_path / "dist"
    for folder in ("_bootstrap", "prod"):
        shutil.copytree(REPO / "dist" / folder, dist / folder)
    project = dist / "_bootstrap/argocd/AppProject.argoproj.io.argocd.meshops-search.yaml"
    project.write_text(project.read_text().replace("namespace: search", "namespace: elsewhere"))
    paths = [str(dist / "_bootstrap"), str(dist / "prod")]
    assert cli.main(["validate", *paths, "--env", "prod", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    refused = {(f["rule"], f["namespace"]) for f in findings if f["severity"] == "error"}
    assert refused == {("argocd-project-permits", "search")}


def test_each_namespace_has_its_own_namespace_wide_alerts(rendered: list[Manifest]) -> None:
    for ns in ("shop", "payments", "search"):
        rule = find(rendered, "prod/prod-east", "PrometheusRule", "mesh-slo", ns)
        alerts = rule["spec"]["groups"][0]["rules"]
        assert {a["alert"] for a in alerts} == {"MeshHighErrorRatio", "MeshHighLatencyP99"}
        for alert in alerts:
            assert f'destination_workload_namespace="{ns}"' in alert["expr"]
            assert alert["labels"]["namespace"] == ns


def _synth(envs: Path, tmp_path: Path) -> Path:
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(tmp_path / "d")]) == 0
    return tmp_path / "d" / "prod" / "prod-east"


def test_a_namespaces_alert_defaults_set_or_switch_off_its_namespace_wide_alerts(
    tmp_path: Path,
) -> None:
    blocks = [
        {"name": "pay", "defaults": {"alerts": {"errorRatio": 0.2, "p99LatencyMs": 900}},
         "services": [service("a")]},
        {"name": "quiet", "defaults": {"alerts": False}, "services": [service("b")]},
    ]  # fmt: skip
    team = {"namespaces": ["pay", "quiet"], "file": {"namespaces": blocks}}
    cluster = _synth(team_env(tmp_path, pay=team), tmp_path)
    rule = yaml.safe_load(
        (cluster / "monitoring/PrometheusRule.monitoring.coreos.com.pay.mesh-slo.yaml").read_text()
    )
    exprs = [a["expr"] for a in rule["spec"]["groups"][0]["rules"]]
    assert exprs[0].endswith("> 0.2") and exprs[1].endswith("> 900")
    assert not list(cluster.glob("monitoring/PrometheusRule.*.quiet.*"))
    assert (cluster / "monitoring/PrometheusRule.monitoring.coreos.com.shop.mesh-slo.yaml").exists()


def test_a_team_namespace_runs_its_own_experiments(tmp_path: Path) -> None:
    chaos = {"name": "slow-a", "service": "a", "percent": 10, "delay": "2s",
             "header": {"name": "x-chaos", "value": "slow-a"}}  # fmt: skip
    block = {"name": "pay", "services": [service("a")], "experiments": [chaos]}
    team = {"namespaces": ["pay"], "file": {"namespaces": [block]}}
    envs = team_env(tmp_path, "staging", pay=team)
    env = environment.load(envs / "staging.yaml")
    (svc,) = env.namespaces[-1].services
    assert [e.name for e in env.experiments(svc)] == ["slow-a"]
    vs = find(synth_rendered(env), "staging/staging-1", "VirtualService", "a", "pay")
    (route,) = [r for r in vs["spec"]["http"] if r["name"] == "slow-a"]
    assert route["match"] == [{"headers": {"x-chaos": {"exact": "slow-a"}}}]
    assert route["fault"] == {"delay": {"fixedDelay": "2s", "percentage": {"value": 10.0}}}
    # the platform's experiments stay on the platform's services
    assert [e.name for e in env.experiments(env.services[2])] == ["reviews-latency"]


def synth_rendered(env: environment.Environment) -> list[Manifest]:
    from charts_py.render import synth

    return synth.manifests([env], [env])


@pytest.mark.parametrize(
    ("sample_env", "experiment", "message"),
    [
        ("staging", {"service": "nope"}, "namespaces[0].experiments[0].service: unknown service"),
        ("staging", {"header": None}, "namespaces[0].experiments[0].header: the staging profile"),
        ("prod", {}, "namespaces[0].experiments[0]: fault experiments are forbidden"),
    ],
)
def test_a_team_experiment_is_checked_in_the_team_file(
    tmp_path: Path, sample_env: str, experiment: dict[str, Any], message: str
) -> None:
    chaos = {"name": "slow-a", "service": "a", "percent": 10, "delay": "2s",
             "header": {"name": "x-chaos", "value": "slow-a"}, **experiment}  # fmt: skip
    block = {"name": "pay", "services": [service("a")], "experiments": [chaos]}
    team = {"namespaces": ["pay"], "file": {"namespaces": [block]}}
    envs = team_env(tmp_path, sample_env, pay=team)
    with pytest.raises(ConfigError) as caught:
        environment.load(envs / f"{sample_env}.yaml")
    assert str(caught.value).startswith(f"{envs}/{sample_env}/pay.yaml:")
    assert message in str(caught.value)


def test_objects_of_a_team_namespace_name_the_team_file_in_their_header() -> None:
    cluster = REPO / "dist" / "prod" / "prod-east"

    def header(path: str) -> str:
        return (cluster / path).read_text().splitlines()[0]

    made = "# Generated by meshops from environments/{}. Edit that, not this file."
    assert header("services/Deployment.apps.payments.fraud-v1.yaml") == made.format(
        "prod/payments.yaml"
    )
    assert header("mesh-baseline/Sidecar.networking.istio.io.search.default.yaml") == made.format(
        "prod/search.yaml"
    )
    assert header("services/Deployment.apps.shop.catalog-v1.yaml") == made.format("prod.yaml")
    # the drift job's Role in a team's namespace follows the platform file's `drift:`
    role = "drift-job/Role.rbac.authorization.k8s.io.payments.meshops-drift.yaml"
    assert header(role) == made.format("prod.yaml")


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("namespace", "namespace"),
        ("namespaces", "namespaces[0].name"),
        ("teams", "teams.ops.namespaces[0]"),
    ],
)
@pytest.mark.parametrize("name", ["istio-system", "monitoring", "meshops-system"])
def test_an_application_namespace_may_not_be_one_meshops_renders_for_itself(
    tmp_path: Path, where: str, field: str, name: str
) -> None:
    data = sample("prod")
    if where == "namespace":
        data["namespace"] = name
    elif where == "namespaces":
        data["namespaces"] = [{"name": name}]
    else:
        data["teams"] = {"ops": {"namespaces": [name]}}
    envs = write_envs(tmp_path / "envs", prod=data)
    with pytest.raises(ConfigError) as caught:
        environment.load(envs / "prod.yaml")
    assert "prod.yaml:" in str(caught.value)
    assert f": {field}: '{name}' is a namespace meshops renders for itself" in str(caught.value)
