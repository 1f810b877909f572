"""`fields.covered`, the one-walk ownership check that settles nearly every object, against
its definition: every leaf the owner holds is declared by git, inside a field git declares
atomic, or holds fields git declares (what `compare.ownership` works out from path sets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charts_py import yamlio
from charts_py.drift import fields
from charts_py.objectref import ObjectRef

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"


def by_definition(tree: dict[str, Any], obj: dict[str, Any]) -> bool:
    owned = fields.Owner(manager="m", operation="Apply", time=None, subresource="", tree=tree).paths
    leaves = fields.desired_paths(obj)
    inner = {path[:n] for path in leaves for n in range(1, len(path))}
    return all(p in inner or any(p[:n] in leaves for n in range(1, len(p) + 1)) for p in owned)


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "a", "labels": {"app": "a"}},
    "spec": {
        "selector": {"matchLabels": {"app": "a"}},
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "env": [{"name": "A", "value": "1"}],
                        "ports": [{"containerPort": 8080}],
                    }
                ]
            }
        },
    },
}
APP = 'k:{"name":"app"}'


def containers(**inside: Any) -> dict[str, Any]:
    return {"f:spec": {"f:template": {"f:spec": {"f:containers": {APP: inside}}}}}


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        ({"f:metadata": {"f:labels": {"f:app": {}}}}, True),
        ({"f:spec": {"f:selector": {}}}, True),  # atomic: owned whole, git declares inside
        ({"f:spec": {"f:replicas": {}}}, False),  # a field git does not declare
        ({"f:metadata": {"f:labels": {"f:team": {}}}}, False),
        (containers(**{".": {}, "f:name": {}, "f:env": {'k:{"name":"A"}': {"f:value": {}}}}), True),
        (containers(**{"f:env": {'k:{"name":"B"}': {"f:value": {}}}}), False),
        # the port's protocol is part of its key, defaulted to TCP as the server does
        (containers(**{"f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {}}}), True),
        (containers(**{"f:ports": {'k:{"containerPort":8080,"protocol":"UDP"}': {}}}), False),
        (containers(**{"f:env": {}}), True),  # held whole: git declares items inside
        ({"f:metadata": {"f:finalizers": {'v:"x"': {}}}}, False),  # git has no finalizers
    ],
)
def test_covered(tree: dict[str, Any], expected: bool) -> None:
    assert fields.covered(tree, DEPLOYMENT) is expected
    assert by_definition(tree, DEPLOYMENT) is expected


def test_a_crd_list_is_atomic_to_git_whatever_keys_the_server_tracks() -> None:
    entry = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry"}
    obj = {**entry, "metadata": {"name": "x"}, "spec": {"ports": [{"name": "tls", "number": 443}]}}
    tree = {"f:spec": {"f:ports": {'k:{"name":"tls"}': {"f:number": {}, "f:name": {}}}}}
    assert fields.covered(tree, obj) and by_definition(tree, obj)


def _recorded_pairs() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, fieldsV1, git's object) for every managedFields entry the testdata records."""
    pairs = []
    drift = TESTDATA / "drift"
    for live_file in sorted(drift.glob("*-live.yaml")):
        desired_file = drift / live_file.name.replace("-live.yaml", "-desired.yaml")
        wanted = {ObjectRef.of(d).key: d for d in yamlio.load_all(desired_file.read_text()) if d}
        pairs += _pairs(live_file.name, list(yamlio.load_all(live_file.read_text())), wanted)
    engine = TESTDATA / "gitops-engine"
    for live_file in sorted(engine.glob("*-live.json")):
        config = engine / live_file.name.replace("-live.json", "-config.json")
        if config.exists():
            desired = json.loads(config.read_text())
            live = json.loads(live_file.read_text())
            live.setdefault("metadata", {}).setdefault("namespace", None)
            pairs += [(live_file.name, e.get("fieldsV1") or {}, desired) for e in _entries(live)]
    return pairs


def _pairs(
    where: str, docs: list[Any], wanted: dict[Any, dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for live in (d for d in docs if isinstance(d, dict) and "metadata" in d):
        desired = wanted.get(ObjectRef.of(live).key)
        if desired is not None:
            out += [(where, e.get("fieldsV1") or {}, desired) for e in _entries(live)]
    return out


def _entries(live: dict[str, Any]) -> list[dict[str, Any]]:
    return list((live.get("metadata") or {}).get("managedFields") or [])


RECORDED = _recorded_pairs()


def test_the_recorded_entries_hold_both_answers() -> None:
    answers = [fields.covered(tree, obj) for _, tree, obj in RECORDED]
    assert len(answers) >= 20 and True in answers and False in answers


@pytest.mark.parametrize(("where", "tree", "obj"), RECORDED, ids=[p[0] for p in RECORDED])
def test_covered_agrees_with_its_definition_on_recorded_objects(
    where: str, tree: dict[str, Any], obj: dict[str, Any]
) -> None:
    assert fields.covered(tree, obj) == by_definition(tree, obj)
