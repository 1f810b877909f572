"""Chaos experiments and load tests (practices 12, 13): config errors, rendering per profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charts_py import cli, kinds
from charts_py.config.model import MAX_LOAD_TEST_SECONDS
from charts_py.constructs import load_test
from charts_py.render.manifest import Manifest
from tests.conftest import find, kinds_under, sample, write_envs

DEV, STAGING, EAST = "dev/dev-1", "staging/staging-1", "prod/prod-east"
EXPERIMENT = {"name": "cart-latency", "service": "cart", "delay": "1s", "percent": 50}
LOAD_TEST = {"name": "cart-load", "target": "cart", "qps": 10, "duration": "1m", "connections": 2}


def synth_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], env: str, data: Any) -> str:
    write_envs(tmp_path / "envs", **{env: data})
    code = cli.main(
        ["synth", "--environments", str(tmp_path / "envs"), "--dist", str(tmp_path / "dist")]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert not (tmp_path / "dist").exists()
    return err


def test_experiment_in_prod_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("prod")
    data["experiments"] = [{**EXPERIMENT, "header": {"name": "x-chaos", "value": "on"}}]
    err = synth_error(tmp_path, capsys, "prod", data)
    assert "envs/prod.yaml:" in err
    assert "experiments[0]: fault experiments are forbidden in the prod profile" in err


def test_experiment_on_unknown_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    data["experiments"] = [{**EXPERIMENT, "service": "kart"}]
    err = synth_error(tmp_path, capsys, "dev", data)
    assert "experiments[0].service: unknown service 'kart'" in err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"delay": None}, "experiments[0]: set delay, abort or both"),
        ({"percent": 0}, "experiments[0].percent: Input should be greater than 0"),
        ({"percent": 101}, "experiments[0].percent: Input should be less than or equal to 100"),
        ({"name": "default"}, "experiments[0].name: 'default' is a reserved route name"),
    ],
)
def test_experiment_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], expected: str
) -> None:
    data = sample("dev")
    data["experiments"] = [{k: v for k, v in {**EXPERIMENT, **change}.items() if v is not None}]
    assert expected in synth_error(tmp_path, capsys, "dev", data)


def test_staging_experiment_needs_a_header_and_unique_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("staging")
    data["experiments"] = [EXPERIMENT]
    err = synth_error(tmp_path, capsys, "staging", data)
    assert "experiments[0].header: the staging profile requires a header gate" in err
    gated = {**EXPERIMENT, "header": {"name": "x-chaos", "value": "cart"}}
    data["experiments"] = [gated, gated]
    err = synth_error(tmp_path / "again", capsys, "staging", data)
    assert "experiments[1].name: duplicate experiment 'cart-latency'" in err


def test_two_experiments_with_one_gate_would_shadow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("staging")
    header = {"name": "x-meshops-fault", "value": "payment"}  # the `fault:` shorthand's gate
    data["experiments"] = [{**EXPERIMENT, "service": "payment", "header": header}]
    err = synth_error(tmp_path, capsys, "staging", data)
    assert "experiments[0].header: 'fault-injection' already injects faults on payment" in err


def test_load_test_in_prod_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("prod")
    data["loadTests"] = [LOAD_TEST]
    err = synth_error(tmp_path, capsys, "prod", data)
    assert "loadTests[0]: load tests are not run in prod" in err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"qps": 0}, "loadTests[0].qps: Input should be greater than 0"),
        ({"qps": 5001}, "loadTests[0].qps: Input should be less than or equal to 5000"),
        ({"connections": 65}, "loadTests[0].connections: Input should be less than or equal"),
        ({"duration": "31m"}, "loadTests[0].duration: must be between 1s and 30m, got 31m"),
        ({"target": "kart"}, "loadTests[0].target: unknown service 'kart'"),
        ({"target": "recommendations"}, "recommendations speaks grpc; load tests drive HTTP"),
    ],
)
def test_load_test_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], expected: str
) -> None:
    data = sample("staging")
    data["loadTests"] = [{**LOAD_TEST, **change}]
    assert expected in synth_error(tmp_path, capsys, "staging", data)


def test_staging_renders_the_gated_experiment_before_the_default(
    rendered: list[Manifest],
) -> None:
    http = find(rendered, STAGING, "VirtualService", "reviews")["spec"]["http"]
    assert [r["name"] for r in http] == ["reviews-latency", "default"]
    assert http[0]["match"] == [{"headers": {"x-meshops-chaos": {"exact": "reviews-latency"}}}]
    assert http[0]["fault"] == {"delay": {"fixedDelay": "2s", "percentage": {"value": 100}}}
    assert {k: v for k, v in http[0].items() if k not in ("name", "match", "fault")} == {
        k: v for k, v in http[1].items() if k != "name"
    }


def test_dev_renders_its_experiment_and_the_shorthand_the_same_way(
    rendered: list[Manifest],
) -> None:
    cart = find(rendered, DEV, "VirtualService", "cart")["spec"]["http"]
    assert [r["name"] for r in cart] == ["cart-errors", "default"]
    assert cart[0]["fault"]["abort"] == {"httpStatus": 503, "percentage": {"value": 50}}
    reviews = find(rendered, DEV, "VirtualService", "reviews")["spec"]["http"]
    assert [r["name"] for r in reviews] == ["fault-injection", "default"]
    assert reviews[0]["match"] == [{"headers": {"x-meshops-fault": {"exact": "reviews"}}}]


def test_an_ungated_experiment_replaces_the_default_route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from charts_py.config import environment
    from charts_py.render import synth

    data = sample("dev")
    data["experiments"] = [EXPERIMENT]
    env = environment.load(write_envs(tmp_path, dev=data) / "dev.yaml")
    cart = find(synth.manifests([env], [env]), DEV, "VirtualService", "cart")["spec"]["http"]
    assert [r["name"] for r in cart] == ["cart-latency"]
    assert "match" not in cart[0] and cart[0]["fault"]["delay"]["fixedDelay"] == "1s"


def test_prod_has_no_fault_routes_and_no_load_tests(rendered: list[Manifest]) -> None:
    routes = [
        r
        for m in rendered
        if m.path.startswith("prod/") and m.obj["kind"] == "VirtualService"
        for r in m.obj["spec"].get("http", [])
    ]
    assert routes and not [r for r in routes if "fault" in r]
    assert not [m for m in rendered if m.path.startswith("prod/") and m.obj["kind"] == "Job"]
    assert "Job" not in kinds_under(rendered, DEV)


def test_staging_load_test_job_is_bounded(rendered: list[Manifest]) -> None:
    job = find(rendered, STAGING, "Job", "frontend-baseline")
    # With the workloads, in the last wave: a later one would wait for their health.
    wave = job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    assert wave == str(max(k.wave for k in kinds.MESH_KINDS))
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 120 + 120
    assert spec["activeDeadlineSeconds"] <= MAX_LOAD_TEST_SECONDS + 120
    assert "ttlSecondsAfterFinished" not in spec  # the TTL would make Argo CD re-run it
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "meshops-load-test"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == load_test.FORTIO_IMAGE == "fortio/fortio:1.69.5"
    assert container["args"] == [
        *("load", "-qps", "50", "-t", "2m", "-c", "8", "-json", "-"),
        "http://frontend.shop.svc.cluster.local:8080/",
    ]
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    allow = find(rendered, STAGING, "AuthorizationPolicy", "frontend")["spec"]["rules"][0]
    assert "cluster.local/ns/shop/sa/meshops-load-test" in allow["from"][0]["source"]["principals"]


def test_drift_alerts_use_the_drift_job_metrics(rendered: list[Manifest]) -> None:
    from charts_py.report import metrics

    for prefix in (DEV, STAGING, EAST):
        rule = find(rendered, prefix, "PrometheusRule", "meshops-drift")["spec"]["groups"][0]
        alerts = {r["alert"]: r["expr"] for r in rule["rules"]}
        assert set(alerts) == {
            "MeshopsDriftCritical",
            "MeshopsDriftCriticalPersisting",
            "MeshopsDriftIncomplete",
            "MeshopsDriftStale",
        }
        env, cluster = prefix.split("/")
        sel = f'env="{env}",cluster="{cluster}"'
        assert (
            f'meshops_drift_objects{{{sel},status!="in-sync",severity="critical"}}'
            in (alerts["MeshopsDriftCritical"])
        )
        assert "meshops_drift_complete" in alerts["MeshopsDriftIncomplete"]
        stale = alerts["MeshopsDriftStale"]
        assert "> 172800 or absent_over_time(" in stale, "an absent series must alert too"
        for expr in alerts.values():
            names = {n for n in metrics.HELP if n in expr}
            assert names, f"{expr} names no metric the drift job writes"


def test_the_validator_rejects_the_staging_experiment_under_prod(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from tests.conftest import REPO

    route = "VirtualService.networking.istio.io.shop.reviews.yaml"
    path = REPO / "dist" / STAGING / "services" / route
    for profile, code, severity in (("prod", 1, "error"), ("staging", 1, "info")):
        assert cli.main(["validate", str(path), "--env", profile, "--format", "json"]) == code
        faults = [
            f
            for f in json.loads(capsys.readouterr().out)["findings"]
            if f["rule"] == "fault-injection"
        ]
        assert [(f["severity"], f["path"]) for f in faults] == [(severity, "/spec/http/0/fault")]
