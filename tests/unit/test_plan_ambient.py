"""`meshops plan-ambient`: making the edit the plan names changes exactly the objects it lists,
found by synthesising dist/ before and after the edit (the dist contract's file names, not the
planner's own rendering)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli
from charts_py.objectref import ObjectRef
from charts_py.plan import ambient
from tests.conftest import write_envs
from tests.unit.test_ambient import minimal

CLUSTER = "dev/c1"


def environment(platform_dataplane: str, legacy: dict[str, Any]) -> dict[str, Any]:
    """Platform namespace `shop` (its dataplane from the policy), namespace `legacy`."""
    data = minimal({"calls": ["legacy/api"]})
    data["policy"]["dataplane"] = platform_dataplane
    l4_only = dict.fromkeys(
        ("alerts", "timeout", "retries", "loadBalancer", "connectionPool"), False
    )
    data["namespaces"] = [
        {
            "name": "legacy",
            **legacy,
            "services": [
                {
                    "name": "api",
                    "image": "registry.example.com/api:1.0",
                    "versions": [{"name": "v1", "weight": 75}, {"name": "v2", "weight": 25}],
                },
                {"name": "db", "image": "registry.example.com/db:1.0", **l4_only},
            ],
        }
    ]
    return data


def synth(envs: Path, dist: Path) -> dict[str, str]:
    """The cluster folder's files after `meshops synth`, by name, with their digests."""
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(dist)]) == 0
    folder = dist / CLUSTER
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.yaml")}


def files(refs: tuple[ObjectRef, ...]) -> set[str]:
    return {ref.file_name() for ref in refs}


def moved(
    tmp_path: Path, data: dict[str, Any], namespace: str
) -> tuple[ambient.Move, dict[str, str], dict[str, str]]:
    envs = write_envs(tmp_path / "environments", dev=data)
    before = synth(envs, tmp_path / "before")
    (move,) = [m for m in ambient.plan(envs, "dev") if m.namespace == namespace]
    for edit in move.edits:
        path = Path(edit.file)
        path.write_text(ambient.apply(path.read_text(), edit))
    after = synth(envs, tmp_path / "after")
    return move, before, after


def test_moving_one_namespace_changes_exactly_what_the_plan_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = environment("ambient", {"dataplane": "sidecar"})
    move, before, after = moved(tmp_path, data, "legacy")
    assert move.movable and move.blockers == ()
    assert [(e.field, e.value) for e in move.edits] == [(("namespaces", 0, "dataplane"), "ambient")]
    assert files(move.removed) == before.keys() - after.keys()
    assert files(move.added) == after.keys() - before.keys()
    changed = {n for n in before.keys() & after.keys() if before[n] != after[n]}
    assert files(move.changed) == changed
    assert "VirtualService.networking.istio.io.legacy.api.yaml" in files(move.removed)
    routes = {
        "HTTPRoute.gateway.networking.k8s.io.legacy.api.yaml",
        "Service.core.legacy.api-v2.yaml",
        "Gateway.gateway.networking.k8s.io.legacy.waypoint.yaml",
    }
    assert routes <= files(move.added)
    assert set(move.waypoint) == {"api"}  # db asks for nothing L7


def test_moving_the_platforms_namespace_pins_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    move, before, after = moved(tmp_path, environment("sidecar", {}), "shop")
    fields = [(e.field, e.value) for e in move.edits]
    assert fields == [
        (("policy", "dataplane"), "ambient"),
        (("namespaces", 0, "dataplane"), "sidecar"),
    ]
    changed = {n for n in before.keys() & after.keys() if before[n] != after[n]}
    assert files(move.changed) == changed
    assert files(move.removed) == before.keys() - after.keys()
    assert files(move.added) == after.keys() - before.keys()
    assert not any(".legacy." in name for name in files(move.removed) | files(move.added))


def test_what_blocks_a_move_is_listed_with_its_rule_and_the_edit_still_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = environment("ambient", {"dataplane": "sidecar"})
    data["namespaces"][0]["services"][0]["fault"] = {"percent": 5, "abort": 503}
    envs = write_envs(tmp_path / "environments", dev=data)
    (move,) = [m for m in ambient.plan(envs, "dev") if m.namespace == "legacy"]
    assert not move.movable
    (blocker,) = move.blockers
    assert blocker.field == "namespaces[0].services[0].fault"
    assert "(rule waypoint-fault-retries)" in blocker.reason
    steps = ambient.steps(move)
    assert [s["do"] for s in steps] == ["fix", "edit", "run", "run"]
    assert ambient.lost(move)[0]["kind"] == "Sidecar"


def test_the_json_plan_of_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan-ambient", "--env", "ambient", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["schemaVersion"] == 1 and plan["env"] == "ambient"
    by_name = {ns["namespace"]: ns for ns in plan["namespaces"]}
    assert by_name["shop"]["dataplane"] == "ambient" and by_name["shop"]["steps"] == []
    legacy = by_name["legacy"]
    assert legacy["movable"] is False
    assert {c["field"] for c in legacy["cannotMove"]} == {
        "namespaces[0].services[0].fault",
        "namespaces[0].services[0].retries",
    }
    edit = next(s for s in legacy["steps"] if s["do"] == "edit")
    assert edit["edits"] == [
        {"file": "environments/ambient.yaml", "field": "namespaces[0].dataplane",
         "line": edit["edits"][0]["line"], "value": "ambient"}
    ]  # fmt: skip
