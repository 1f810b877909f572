"""`meshops cost`: hand-computed totals, defaults, the JSON shape, the scoping estimate, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli, quantity
from charts_py.config import environment
from charts_py.cost import estimate, formats
from tests.conftest import SAMPLE_ENVIRONMENTS, write_envs


def small(**extra: Any) -> dict[str, Any]:
    """Two services on the staging profile (proxy 100m/128Mi, HPA 2..6), two clusters.

    Per pod, by hand, at EUR 0.04 per core-hour and 0.005 per GiB-hour, 730 h:
    - api: 500m+100m = 0.6 cores, 1Gi+128Mi = 1.125 GiB -> 0.029625/h -> 21.62625 a month;
      HPA 2..4 -> 43.2525 .. 86.505 (86.51 rounded half up)
    - worker: 200m+100m = 0.3 cores, 256Mi+128Mi = 0.375 GiB -> 0.013875/h -> 10.12875;
      no HPA: the profile's minimum, 2, fixed -> 20.2575 both ways
    - per cluster: 63.51 .. 106.7625; environment (2 clusters): 127.02 .. 213.525
    """
    data: dict[str, Any] = {
        "profile": "staging",
        "namespace": "shop",
        "clusters": [
            {"name": "c-east", "region": "r1", "network": "n1"},
            {"name": "c-west", "region": "r2", "network": "n2"},
        ],
        "argocd": {"repoURL": "https://git.example.com/x.git"},
        "ingress": {"hosts": ["shop.example.com"], "tlsSecret": "tls"},
        "externalServices": [
            {"name": "pay", "host": "api.pay.example.com", "port": 443, "protocol": "TLS"}
        ],
        "services": [
            {
                "name": "api",
                "image": "registry.example.com/api:1.0.0",
                "ingress": {"path": "/"},
                "calls": ["worker"],
                "resources": {"cpu": "500m", "memory": "1Gi"},
                "autoscaling": {"min": 2, "max": 4},
            },
            {
                "name": "worker",
                "image": "registry.example.com/worker:1.0.0",
                "externals": ["pay"],
                "autoscaling": False,
            },
        ],
        "cost": {"cpuPerCoreHour": 0.04, "memoryPerGiBHour": 0.005, "currency": "EUR"},
    }
    data.update(extra)
    return data


def report(tmp_path: Path, data: dict[str, Any], fmt: str = "json") -> Any:
    write_envs(tmp_path / "envs", small=data)
    env = environment.load(tmp_path / "envs" / "small.yaml")
    rendered = formats.RENDERERS[fmt](estimate.estimate_all([env]))
    return json.loads(rendered) if fmt == "json" else rendered


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("250m", "0.25"),
        ("2", "2"),
        ("1.5", "1.5"),
        ("128Mi", str(128 * 2**20)),
        ("1Gi", str(2**30)),
        ("64Ki", "65536"),
        ("1G", "1000000000"),
        ("1e3", "1000"),
    ],
)
def test_quantities_parse_exactly(text: str, amount: str) -> None:
    assert quantity.amount(text) == Decimal(amount)


def test_a_malformed_quantity_is_an_error_for_cost_and_a_value_for_drift() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity: '12 cores'"):
        quantity.amount("12 cores")
    assert quantity.comparable("12 cores") == "12 cores"
    assert quantity.comparable("1000m") == quantity.comparable("1")


def test_hand_computed_totals(tmp_path: Path) -> None:
    [env] = report(tmp_path, small())["environments"]
    assert env["rates"] == {
        "currency": "EUR",
        "cpuPerCoreHour": 0.04,
        "memoryPerGiBHour": 0.005,
        "hoursPerMonth": 730,
        "nodes": None,
    }
    east, west = env["clusters"]
    assert east["cluster"] == "c-east" and west["cluster"] == "c-west"
    api, worker = east["services"]
    assert api["replicas"] == {"min": 2, "max": 4} and api["autoscaled"] is True
    assert api["pod"] == {
        "app": {"cpu": 0.5, "memoryMiB": 1024},
        "proxy": {"cpu": 0.1, "memoryMiB": 128},
    }
    assert api["cpu"] == {"min": 1.2, "max": 2.4}
    assert api["memoryGiB"] == {"min": 2.25, "max": 4.5}
    assert api["monthly"] == {"min": 43.25, "max": 86.51}
    assert worker["replicas"] == {"min": 2, "max": 2} and worker["autoscaled"] is False
    assert worker["monthly"] == {"min": 20.26, "max": 20.26}
    assert east["total"]["monthly"] == {"min": 63.51, "max": 106.76}
    assert east["total"]["cpu"] == {"min": 1.8, "max": 3}
    assert east["total"]["memoryGiB"] == {"min": 3, "max": 5.25}
    assert env["total"]["monthly"] == {"min": 127.02, "max": 213.53}


def test_every_version_is_a_deployment_with_its_own_bounds(tmp_path: Path) -> None:
    data = small()
    data["services"][0]["versions"] = [{"name": "v1", "weight": 100}, {"name": "v2", "weight": 0}]
    [env] = report(tmp_path, data)["environments"]
    api = env["clusters"][0]["services"][0]
    assert api["deployments"] == 2 and api["replicas"] == {"min": 4, "max": 8}
    assert api["monthly"] == {"min": 86.51, "max": 173.01}  # 4 and 8 x 21.62625


def test_rates_default_when_the_file_has_no_cost_block(tmp_path: Path) -> None:
    data = small()
    del data["cost"]
    [env] = report(tmp_path, data)["environments"]
    assert env["rates"] == {
        "currency": "USD",
        "cpuPerCoreHour": 0.031,
        "memoryPerGiBHour": 0.0042,
        "hoursPerMonth": 730,
        "nodes": None,
    }
    worker = env["clusters"][0]["services"][1]
    # 2 x (0.3 x 0.031 + 0.375 x 0.0042) x 730 = 2 x 7.93875 = 15.8775
    assert worker["monthly"] == {"min": 15.88, "max": 15.88}


def test_json_shape(tmp_path: Path) -> None:
    data = report(tmp_path, small())
    assert list(data) == ["schemaVersion", "method", "environments"]
    assert data["schemaVersion"] == 2
    assert data["method"]["scopingBaseMiB"] == 20 and data["method"]["scopingMiBPerHost"] == 0.5
    [env] = data["environments"]
    assert list(env) == ["env", "profile", "rates", "clusters", "total", "scopingSavedMonthly"]
    assert list(env["clusters"][0]) == ["cluster", "services", "ambient", "total"]
    assert list(env["clusters"][0]["services"][0]) == [
        "service",
        "dataplane",
        "deployments",
        "autoscaled",
        "replicas",
        "pod",
        "cpu",
        "memoryGiB",
        "monthly",
        "scoping",
    ]
    assert list(env["total"]) == ["cpu", "memoryGiB", "monthly", "scopingSavedMiB"]
    assert env["clusters"][0]["ambient"] == []  # sidecars only: no ztunnel, no waypoint


def test_scoping_estimate(tmp_path: Path) -> None:
    [env] = report(tmp_path, small())["environments"]
    api, worker = env["clusters"][0]["services"]
    # Without scoping: 2 services + 1 external + the mesh root = 4 hosts, 20 + 4 x 0.5 MiB.
    assert api["scoping"] == {
        "hostsWithout": 4,
        "hostsWith": 2,  # worker + the mesh root
        "proxyMiBWithout": 22,
        "proxyMiBWith": 21,
        "savedMiB": {"min": 2, "max": 4},
    }
    assert worker["scoping"]["hostsWith"] == 2  # pay + the mesh root
    assert env["clusters"][0]["total"]["scopingSavedMiB"] == {"min": 4, "max": 6}


def test_scoping_lowers_every_proxy_of_the_samples() -> None:
    envs = environment.load_all(SAMPLE_ENVIRONMENTS).values()
    for env_cost in estimate.estimate_all(list(envs)):
        for svc in env_cost.clusters[0].services:
            if svc.scoping is None:  # ambient: no sidecar
                continue
            assert svc.scoping.proxy_mib(True) < svc.scoping.proxy_mib(False), svc.service
        assert env_cost.total("saved_memory").min > 0


def test_text_and_markdown_state_the_method(tmp_path: Path) -> None:
    text = report(tmp_path, small(), "text")
    assert "c-east, c-west (each):" in text
    assert "EUR 127.02..213.53 a month over 2 clusters" in text
    assert "x 730 hours" in text and "Sidecar scoping (estimate: proxy config memory" in text
    md = report(tmp_path, small(), "markdown")
    assert "### Sidecar scoping (estimate)" in md
    assert (
        "| api | 1 | 2..4 | 500m+100m | 1024Mi+128Mi | 1.2..2.4 | 2.25..4.5 | 43.25..86.51 |" in md
    )
    assert "| worker | 1 | 2..2 fixed |" in md


def test_cli_selects_environments_and_is_deterministic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["cost", "--environments", str(SAMPLE_ENVIRONMENTS), "--env", "prod", "--format", "json"]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert cli.main(args) == 0
    assert capsys.readouterr().out == first
    assert [e["env"] for e in json.loads(first)["environments"]] == ["prod"]


@pytest.mark.parametrize(
    ("cost", "field", "reason"),
    [
        ({"cpuPerCoreHour": -1}, "cost.cpuPerCoreHour", "greater than or equal to 0"),
        ({"memoryPerGiBHour": "cheap"}, "cost.memoryPerGiBHour", "valid number"),
        ({"currency": "dollars"}, "cost.currency", "should match pattern"),
        ({"cpuPerCore": 1}, "cost.cpuPerCore", "unknown field"),
    ],
)
def test_bad_cost_block_exits_2_naming_file_and_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cost: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    write_envs(tmp_path / "envs", small=small(cost=cost))
    assert cli.main(["cost", "--environments", str(tmp_path / "envs")]) == 2
    message = capsys.readouterr().err
    assert "small.yaml:" in message and f"{field}: " in message and reason in message


def ambient_small(nodes: int | None = 3) -> dict[str, Any]:
    """`small()` with its namespace in ambient (retries on status codes only, which a
    waypoint's HTTPRoute can say); the staging profile's ejection puts both services behind
    the namespace's waypoint."""
    data = small(policy={
        "dataplane": "ambient",
        "retries": {"attempts": 2, "perTryTimeout": "1s", "retryOn": "5xx"},
    })  # fmt: skip
    if nodes is not None:
        data["cost"]["nodes"] = nodes
    return data


def test_an_ambient_namespace_pays_for_ztunnel_istio_cni_and_its_waypoint_not_sidecars(
    tmp_path: Path,
) -> None:
    """By hand, EUR 0.04 per core-hour, 0.005 per GiB-hour, 730 h, 3 nodes:
    - api: 500m, 1Gi, no sidecar -> 0.025/h -> 18.25 a pod; 2..4 -> 36.5 .. 73
    - worker: 200m, 256Mi -> 0.00925/h -> 6.7525; 2 fixed -> 13.505
    - ztunnel (chart: 200m, 512Mi) -> 0.0105/h -> 7.665 a node; 3 nodes -> 22.995
    - istio-cni-node (chart: 100m, 100Mi) -> 0.00448828125/h -> 3.2764453125; x3 -> 9.8293...
    - waypoint of shop (istiod: 100m, 128Mi), one replica -> 0.004625/h -> 3.37625
    - per cluster: 86.2055859375 .. 122.7055859375
    """
    [env] = report(tmp_path, ambient_small())["environments"]
    assert env["rates"]["nodes"] == 3
    east = env["clusters"][0]
    api, worker = east["services"]
    assert api["dataplane"] == worker["dataplane"] == "ambient"
    assert api["pod"]["proxy"] == {"cpu": 0, "memoryMiB": 0} and api["scoping"] is None
    assert api["monthly"] == {"min": 36.5, "max": 73}
    assert worker["monthly"] == {"min": 13.51, "max": 13.51}
    rows = {(p["name"], p["namespace"]): p for p in east["ambient"]}
    assert list(rows) == [
        ("istio-cni-node", "istio-system"),
        ("ztunnel", "istio-system"),
        ("waypoint", "shop"),
    ]
    ztunnel, cni, waypoint = (
        rows["ztunnel", "istio-system"],
        rows["istio-cni-node", "istio-system"],
        rows["waypoint", "shop"],
    )
    assert ztunnel["perNode"] and ztunnel["replicas"] == 3
    assert ztunnel["pod"] == {"cpu": 0.2, "memoryMiB": 512}
    assert ztunnel["monthly"] == {"min": 23, "max": 23} and ztunnel["monthlyPerPod"] == 7.67
    assert cni["monthly"] == {"min": 9.83, "max": 9.83}
    assert not waypoint["perNode"] and waypoint["replicas"] == 1
    assert waypoint["monthly"] == {"min": 3.38, "max": 3.38}
    assert east["total"]["monthly"] == {"min": 86.21, "max": 122.71}
    assert east["total"]["scopingSavedMiB"] == {"min": 0, "max": 0}
    # the same services on sidecars cost 63.51 .. 106.76 a cluster (test_hand_computed_totals)


def test_without_a_node_count_the_node_agents_are_priced_per_node_outside_the_totals(
    tmp_path: Path,
) -> None:
    [env] = report(tmp_path, ambient_small(nodes=None))["environments"]
    east = env["clusters"][0]
    agents = [p for p in east["ambient"] if p["perNode"]]
    assert [(p["name"], p["replicas"], p["monthly"]["max"]) for p in agents] == [
        ("istio-cni-node", None, 0),
        ("ztunnel", None, 0),
    ]
    assert east["total"]["monthly"] == {"min": 53.38, "max": 89.88}  # services and waypoint
    text = report(tmp_path, ambient_small(nodes=None), "text")
    assert "ztunnel (istio-system)" in text and "EUR 7.67 per node" not in text
    assert "7.67 per node" in text  # ztunnel's column, per node
    assert (
        "Not in these totals: ambient's node agents (istio-cni-node, ztunnel) at EUR 10.94 "
        "a month per node of each cluster; set `cost.nodes` to count them"
    ) in text
    assert "| api | 1 | 2..4 | 500m (ambient) | 1024Mi (ambient) |" in report(
        tmp_path, ambient_small(nodes=None), "markdown"
    )


def test_a_sidecar_namespace_beside_an_ambient_one_keeps_its_sidecars() -> None:
    """The ambient sample: `legacy` stays on sidecars, `shop` and `search` have waypoints."""
    [ambient] = estimate.estimate_all([environment.load_all(SAMPLE_ENVIRONMENTS)["ambient"]])
    [cluster] = ambient.clusters
    planes = {s.service: s.dataplane for s in cluster.services}
    assert planes["checkout"] == planes["orders"] == "sidecar"
    assert planes["cart"] == planes["query"] == "ambient"
    for svc in cluster.services:
        assert (svc.proxy == estimate.NONE) == (svc.dataplane == "ambient"), svc.service
    assert [(p.name, p.namespace) for p in cluster.ambient if not p.per_node] == [
        ("waypoint", "search"),
        ("waypoint", "shop"),
    ]
