"""Every generated alert, run by promtool (`promtool test rules`): each one fires on the series
a bad run produces and stays quiet on a clean one (scenarios in alert_scenarios.py)."""

from __future__ import annotations

import copy
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster, seconds
from charts_py.constructs.monitoring import DRIFT_RULE
from charts_py.render.manifest import Manifest
from tests import tools
from tests.conftest import SAMPLE_ENVIRONMENTS
from tests.unit import alert_scenarios as sc

ENVS = environment.load_all(SAMPLE_ENVIRONMENTS)
CLUSTERS = [(env, cluster) for env in ENVS.values() for cluster in env.spec.clusters]
SHORT = 20  # minutes: past every rate window and `for`
SLO_AT = 15


@pytest.fixture(scope="module")
def promtool() -> str:
    return tools.require("promtool")


def rule_groups(rendered: list[Manifest], env: Environment, cluster: Cluster) -> list[Any]:
    """The groups of every PrometheusRule of the cluster, named `<namespace>/<group>`: one
    file for promtool (prometheus-operator writes a file per PrometheusRule, and a group's
    name is unique only within its file: each namespace has its `mesh-slo`)."""
    prefix = f"{env.name}/{cluster.name}/"
    return [
        {**group, "name": f"{m.obj['metadata']['namespace']}/{group['name']}"}
        for m in rendered
        if m.path.startswith(prefix) and m.obj["kind"] == "PrometheusRule"
        for group in m.obj["spec"]["groups"]
    ]


def alerts_of(groups: list[Any]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def drift_cases(env: Environment, cluster: Cluster, rules: dict[str, Any]) -> list[Any]:
    where = sc.cluster_scope(cluster, env)
    quiet = {n: [] for n in sc.DRIFT_ALERTS}
    healthy = sc.istio(env, env.services, SHORT)

    def fires(name: str, value: float = 0) -> dict[str, Any]:
        return {**quiet, name: [sc.alert(rules[name], value, where)]}

    e, c = env.name, cluster.name
    limit = timedelta(seconds=seconds(env.spec.drift.critical_for))
    old, young = limit + timedelta(hours=1), limit - timedelta(hours=1)
    persisting = {
        **fires("MeshopsDriftCritical", 1),
        "MeshopsDriftCriticalPersisting": [
            sc.alert(rules["MeshopsDriftCriticalPersisting"], old.total_seconds(), where)
        ],
    }
    return [
        sc.test_case(
            sc.pushed(sc.persisting_critical_run(e, c, old), SHORT),
            [(SHORT, persisting)],
            "a critical finding persisting longer than drift.criticalFor",
        ),
        sc.test_case(
            sc.pushed(sc.persisting_critical_run(e, c, young), SHORT),
            [(SHORT, fires("MeshopsDriftCritical", 1))],
            "a critical finding younger than drift.criticalFor pages only as drift",
        ),
        sc.test_case(
            sc.pushed(sc.critical_run(e, c), SHORT),
            [(SHORT, fires("MeshopsDriftCritical", 1))],
            "critical drift pages",
        ),
        sc.test_case(
            sc.pushed(sc.incomplete_run(e, c), SHORT),
            [(SHORT, fires("MeshopsDriftIncomplete"))],
            "an incomplete run is no all-clear",
        ),
        sc.test_case(
            sc.pushed(sc.clean_run(e, c), sc.hours(50)),
            [(sc.hours(47), quiet), (sc.hours(49), fires("MeshopsDriftStale"))],
            "the last run is more than two days old",
        ),
        sc.test_case(
            healthy,
            [(10, quiet), (SHORT, fires("MeshopsDriftStale"))],
            "no run ever pushed (absent series)",
        ),
    ]


def slo_cases(env: Environment, groups: list[Any]) -> list[Any]:
    """Each service failing, then slow: its own alert fires, and its namespace's `Mesh*`
    alert (monitoring.py's `mesh-slo`, one per namespace) when the namespace as a whole
    crosses its threshold (its `defaults.alerts`, else the policy's)."""
    rules, services = alerts_of(groups), env.services
    mesh = mesh_alerts(groups)
    quiet = {n: [] for n in rules if n not in sc.DRIFT_ALERTS}
    cases = []
    for svc in services:
        ns = env.home(svc)
        home = [s for s in services if env.home(s) is ns]
        limit = env.namespace_default(ns, "alerts").plain
        limits, prefix = env.settings(svc).alerts, _camel(svc.name)
        if limits is None:
            continue  # `alerts: false`: no rule of its own (its series still count mesh-wide)
        errors = dict(quiet)
        errors[f"{prefix}HighErrorRatio"] = [sc.alert(rules[f"{prefix}HighErrorRatio"], 1.0, {})]
        if 1 / len(home) > limit.error_ratio:
            rule = mesh[("MeshHighErrorRatio", ns.name)]
            errors["MeshHighErrorRatio"] = [sc.alert(rule, 1 / len(home), {})]
        series = sc.istio(env, services, SHORT, failing={svc.name})
        cases.append(sc.test_case(series, [(SLO_AT, errors)], f"{svc.name} answers 503"))
        latency = sc.slow_latency(limits.p99_latency_ms)
        slow = dict(quiet)
        own = sc.p99([latency])
        slow[f"{prefix}HighLatencyP99"] = [sc.alert(rules[f"{prefix}HighLatencyP99"], own, {})]
        overall = sc.p99([latency] + [sc.FAST_MS] * (len(home) - 1))
        if overall > limit.p99_latency_ms:
            rule = mesh[("MeshHighLatencyP99", ns.name)]
            slow["MeshHighLatencyP99"] = [sc.alert(rule, overall, {})]
        series = sc.istio(env, services, SHORT, slow={svc.name: latency})
        cases.append(sc.test_case(series, [(SLO_AT, slow)], f"{svc.name} answers in {latency}ms"))
    return [*cases, *outage_cases(env, groups, quiet)]


def mesh_alerts(groups: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The namespace-wide alerts by (name, namespace): every namespace has the same names."""
    return {
        (r["alert"], r["labels"]["namespace"]): r
        for g in groups
        if g["name"].rpartition("/")[2] == "mesh-slo"
        for r in g["rules"]
    }


def outage_cases(env: Environment, groups: list[Any], quiet: dict[str, Any]) -> list[Any]:
    """Every service failing, then every service slow: every alert fires, each namespace's
    `Mesh*` pair included."""
    services = env.services
    names = {svc.name for svc in services}
    every = [r for g in groups for r in g["rules"] if "alert" in r]
    errors: dict[str, list[Any]] = {}
    for r in (r for r in every if r["alert"].endswith("ErrorRatio")):
        errors.setdefault(r["alert"], []).append(sc.alert(r, 1.0, {}))
    # Services with alerts switched off have no threshold of their own.
    thresholds = [limits.p99_latency_ms for svc in services if (limits := env.settings(svc).alerts)]
    thresholds += [
        env.namespace_default(ns, "alerts").plain.p99_latency_ms for ns in env.namespaces
    ]
    latency = sc.slow_latency(max(thresholds))
    value = sc.p99([latency] * len(services))  # every series alike: any count gives this p99
    slow: dict[str, list[Any]] = {}
    for r in (r for r in every if r["alert"].endswith("LatencyP99")):
        slow.setdefault(r["alert"], []).append(sc.alert(r, value, {}))
    return [
        sc.test_case(
            sc.istio(env, services, SHORT, failing=names),
            [(SLO_AT, {**quiet, **errors})],
            "every service answers 503",
        ),
        sc.test_case(
            sc.istio(env, services, SHORT, slow=dict.fromkeys(names, latency)),
            [(SLO_AT, {**quiet, **slow})],
            f"every service answers in {latency}ms",
        ),
    ]


def clean_case(env: Environment, cluster: Cluster, rules: dict[str, Any]) -> Any:
    series = sc.pushed(sc.clean_run(env.name, cluster.name), SHORT)
    series += sc.istio(env, env.services, SHORT)
    return sc.test_case(series, [(SHORT, {n: [] for n in rules})], "a clean run is quiet")


def run_promtool(promtool: str, folder: Path, groups: list[Any], tests: list[Any]) -> str:
    """Write rules and tests, run `promtool test rules`; its output, and whether it passed."""
    (folder / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": f"{sc.STEP}s", "tests": tests}
    (folder / "tests.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run(
        [promtool, "test", "rules", "tests.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return ("PASS\n" if done.returncode == 0 else "FAIL\n") + done.stdout + done.stderr


@pytest.mark.parametrize(("env", "cluster"), CLUSTERS, ids=[c.name for _, c in CLUSTERS])
def test_every_alert_fires_on_a_bad_run_and_is_quiet_on_a_clean_one(
    rendered: list[Manifest], env: Environment, cluster: Cluster, promtool: str, tmp_path: Path
) -> None:
    groups = rule_groups(rendered, env, cluster)
    rules = alerts_of(groups)
    drift = [g for g in groups if g["name"].rpartition("/")[2] == DRIFT_RULE]
    drift_tests = drift_cases(env, cluster, rules)
    slo_tests = [clean_case(env, cluster, rules), *slo_cases(env, groups)]
    fired = {
        t["alertname"]
        for case in drift_tests + slo_tests
        for t in case["alert_rule_test"]
        if t["exp_alerts"]
    }
    assert fired == set(rules), f"alerts never shown firing: {sorted(set(rules) - fired)}"
    # Two runs: the two-day staleness case evaluates only the drift rules (minutes, not hours).
    (tmp_path / "drift").mkdir()
    output = run_promtool(promtool, tmp_path / "drift", drift, drift_tests)
    assert output.startswith("PASS"), output
    output = run_promtool(promtool, tmp_path, groups, slo_tests)
    assert output.startswith("PASS"), output


def test_a_stale_rule_without_absent_would_miss_a_job_that_never_ran(
    rendered: list[Manifest], promtool: str, tmp_path: Path
) -> None:
    """The scenarios have teeth: the old `time() - max(...)` alone never fires on no series."""
    env, cluster = CLUSTERS[0]
    groups = copy.deepcopy(rule_groups(rendered, env, cluster))
    rules = alerts_of(groups)
    stale = rules["MeshopsDriftStale"]
    stale["expr"] = stale["expr"].split(" or absent_over_time")[0]
    never_ran = drift_cases(env, cluster, rules)[-1]
    output = run_promtool(promtool, tmp_path, groups, [never_ran])
    assert output.startswith("FAIL") and "MeshopsDriftStale" in output, output
