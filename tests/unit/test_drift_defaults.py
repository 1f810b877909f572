"""Recording server defaults (with a stand-in for the server's dry-run) and filling them in."""

from __future__ import annotations

import copy
import json
from typing import Any

from charts_py.drift import defaults


def _server(obj: dict[str, Any], identity: int) -> dict[str, Any]:
    """Defaults like kube-apiserver's: a constant, a conditional one, a name-derived one and
    a copy of a sibling field."""
    out = copy.deepcopy(obj)
    spec = out.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec.get("mode") == "rolling":
        spec.setdefault("rolling", {"max": "25%"})
    out["metadata"].setdefault("labels", {})["derived"] = f"{obj['metadata']['name']}-{identity}"
    for port in spec.get("ports", []):
        port.setdefault("protocol", "TCP")
    if "accountName" in spec:
        spec.setdefault("account", spec["accountName"])
    return out


OBJECTS = [
    {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "a"},
     "spec": {"mode": "rolling", "ports": [{"port": 80}], "accountName": "x"}},
    {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "b"},
     "spec": {"mode": "recreate", "ports": [{"port": 81}, {"port": 82}], "accountName": "y"}},
]  # fmt: skip


def test_only_unconditional_defaults_are_recorded() -> None:
    found = defaults.record(OBJECTS, _server)
    assert found == {
        "core/Thing": [
            (("spec", "account"), {defaults.COPY_OF: "accountName"}),
            (("spec", "ports", "*", "protocol"), "TCP"),
            (("spec", "type"), "ClusterIP"),
        ]
    }  # rolling: only for one mode; the derived label: differs per name


def test_a_kind_the_server_defaults_nothing_in_is_recorded_empty() -> None:
    """Recorded with no rows, it is told apart from a kind never recorded (absent)."""
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "g"},
        "spec": {"to": [{"group": "", "kind": "Service"}]},
    }
    found = defaults.record(
        [grant, *OBJECTS], lambda o, i: _server(o, i) if o is not grant else copy.deepcopy(o)
    )
    assert found["gateway.networking.k8s.io/ReferenceGrant"] == []
    assert found["core/Thing"]


def test_fill_sets_defaults_only_where_git_has_the_parent() -> None:
    table = defaults.record(OBJECTS, _server)
    obj = {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "c"},
           "spec": {"ports": [{"port": 1}, {"port": 2, "protocol": "UDP"}], "accountName": "z",
                    "type": "NodePort"}}  # fmt: skip
    filled = defaults.fill(obj, table)
    assert filled["spec"]["ports"] == [
        {"port": 1, "protocol": "TCP"},
        {"port": 2, "protocol": "UDP"},
    ]
    assert filled["spec"]["type"] == "NodePort" and filled["spec"]["account"] == "z"
    assert obj["spec"]["ports"][0] == {"port": 1}  # the input is never mutated
    text = defaults.to_json("v1.0.0", table)
    assert defaults.from_json(json.loads(text)) == ("v1.0.0", table)


def test_a_namespace_is_labelled_with_its_name_as_the_server_does() -> None:
    """kube-apiserver sets `kubernetes.io/metadata.name` on every Namespace; an adopted one
    (made by `kubectl create namespace`) is in sync without it in git."""
    git = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    filled = defaults.fill(git, {})
    assert filled["metadata"]["labels"] == {"kubernetes.io/metadata.name": "shop"}
    assert git["metadata"] == {"name": "shop"}  # the input is not changed
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop"}}
    assert "labels" not in defaults.fill(service, {})["metadata"]


def test_the_committed_table_names_its_kubernetes_version() -> None:
    from importlib import resources

    data = json.loads(resources.files("charts_py.drift").joinpath(defaults.TABLE_FILE).read_text())
    assert data["kubernetes"].startswith("v1.")
    assert "core/Service" in defaults.table() and "apps/Deployment" in defaults.table()


def test_every_kind_meshops_emits_and_the_drift_cases_hold_is_recorded() -> None:
    """Server defaults are known for every kind in dist/ and in the recorded drift cases
    (tests/testdata/drift: Gateway API's GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant), if
    only as "none" (scripts/record_defaults.py records them all)."""
    from pathlib import Path

    from charts_py import yamlio

    root = Path(__file__).resolve().parents[2]
    files = [
        *(root / "dist").rglob("*.yaml"),
        *(root / "tests/testdata/drift").glob("*-desired.yaml"),
    ]
    kinds = {
        defaults.kind_key(d)
        for f in files
        for d in yamlio.load_all(f.read_text())
        if isinstance(d, dict) and d
    }
    assert {
        f"gateway.networking.k8s.io/{k}"
        for k in ("GRPCRoute", "TCPRoute", "TLSRoute", "ReferenceGrant")
    } <= kinds
    assert kinds - set(defaults.table()) == set()
