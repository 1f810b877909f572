"""Objects adopted from kubectl and Helm on the real control plane: in sync when their
content is git's (old managers owning defaulted fields included), while a real out-of-band
change on the same object is still caught; with and without a dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charts_py import contract, kubeapi
from charts_py.cluster import binaries, controlplane
from charts_py.drift import check, defaults, fetch, mask, model
from charts_py.drift.policy import Policy
from charts_py.objectref import ObjectRef
from tests.integration import adoption


def _judge(objects: list[dict[str, Any]], live: list[dict[str, Any]], server: Any) -> Any:
    found = fetch.Live(objects={ObjectRef.of(o).key: mask.secret(o) for o in live})
    results = check.judge_all(
        objects, found, Policy(), env="staging", cluster_name="none", server=server
    )
    return results[0]


@pytest.mark.parametrize("case", adoption.CASES, ids=lambda c: c.name)
def test_adopted_object_verdict(
    case: adoption.Case,
    kube: kubeapi.Cluster,
    control_plane: controlplane.LocalCluster,
    namespace: str,
    sample_objects: list[dict[str, Any]],
) -> None:
    bench = adoption.Bench(kube, control_plane.kubeconfig, binaries.locate() / "kubectl", namespace)
    objects = adoption.desired_of(case, sample_objects, namespace)  # type: ignore[arg-type]
    live = adoption.play(case, bench, objects)
    owners = {e["manager"] for e in live[0]["metadata"]["managedFields"]}
    assert contract.FIELD_MANAGER in owners  # adopted...
    if case.steps[0] is not adoption.argocd_adopts:
        assert len(owners) > 1  # ...while the old manager still owns fields
    for server, confirmations in ((kube, None), (None, {model.NO_SERVER})):
        result = _judge(objects, live, server)
        assert str(result.status) == case.status, result.differences
        assert tuple(d.path for d in result.differences) == case.paths
        assert tuple(d.manager for d in result.differences) == case.managers
        if confirmations:
            assert result.confirmed_by in confirmations


RESTORED_ROUTES = [
    c
    for c in adoption.CASES
    if c.steps[-1] is adoption.edited_and_restored and c.inline
    if defaults.table().get(defaults.kind_key(c.inline[0]))
]


@pytest.mark.parametrize("case", RESTORED_ROUTES, ids=lambda c: c.name)
def test_a_restored_route_is_in_sync_only_through_its_recorded_defaults(
    case: adoption.Case,
    kube: kubeapi.Cluster,
    control_plane: controlplane.LocalCluster,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GRPCRoute, TCPRoute and TLSRoute written without the fields the server defaults: the
    same history is false drift on `/spec/rules` once the kind's recorded rows are gone."""
    bench = adoption.Bench(kube, control_plane.kubeconfig, binaries.locate() / "kubectl", namespace)
    objects = adoption.desired_of(case, [], namespace)
    live = adoption.play(case, bench, objects)
    assert str(_judge(objects, live, None).status) == "in-sync"
    kind, recorded = defaults.kind_key(objects[0]), defaults.table()
    monkeypatch.setattr(defaults, "table", lambda: {k: v for k, v in recorded.items() if k != kind})
    result = _judge(objects, live, None)
    assert str(result.status) == "modified"
    assert [(d.path, d.manager) for d in result.differences] == [("/spec/rules", "kubectl-patch")]


def test_defaults_table_matches_the_server(kube: kubeapi.Cluster) -> None:
    """The committed table is what this API server defaults today: it cannot rot."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "record_defaults.py"
    spec = importlib.util.spec_from_file_location("record_defaults", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.recorded(kube) == module.OUTPUT.read_text(), (
        "charts_py/drift/server_defaults.json is stale: run scripts/record_defaults.py"
    )
