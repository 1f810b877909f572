"""The Argo CD bootstrap agrees with itself and with what the clusters' charts write.

Whether real Argo CD accepts it is the e2e tier's job (tests/e2e); these tests pin the
agreement that makes acceptance possible, using validate's Argo CD rules as the judge.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from charts_py import contract, kinds
from charts_py.charts import bootstrap
from charts_py.render.manifest import Manifest
from charts_py.validate import documents, engine

ARGOCD_RULES = ("argocd-destination", "argocd-project-permits", "sync-wave-health")


def findings(items: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
    """Argo CD rule findings over these objects, validated together (as `validate dist/`)."""
    docs = documents.from_objects((f"dist/{path}", obj) for path, obj in items)
    report = engine.validate(docs, "prod")
    return [f"{f.rule} {f.obj} {f.path}" for f in report.findings if f.rule in ARGOCD_RULES]


def placed(rendered: list[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    return [(m.path, copy.deepcopy(m.obj)) for m in rendered]


def of_kind(items: list[tuple[str, dict[str, Any]]], kind: str) -> dict[str, Any]:
    return next(o for p, o in items if o["kind"] == kind and p.startswith(contract.BOOTSTRAP_DIR))


def test_every_generated_object_is_permitted(rendered: list[Manifest]) -> None:
    assert findings(placed(rendered)) == []


def test_template_destination_names_a_namespace_of_every_cluster(
    rendered: list[Manifest],
) -> None:
    items = placed(rendered)
    template = of_kind(items, "ApplicationSet")["spec"]["template"]["spec"]
    destinations = of_kind(items, "AppProject")["spec"]["destinations"]
    clusters = {d["name"] for d in destinations}
    namespace = template["destination"]["namespace"]
    assert {d["name"] for d in destinations if d["namespace"] == namespace} == clusters


def test_the_missing_namespace_is_an_error(rendered: list[Manifest]) -> None:
    items = placed(rendered)
    del of_kind(items, "ApplicationSet")["spec"]["template"]["spec"]["destination"]["namespace"]
    assert any(f.startswith("argocd-destination ") for f in findings(items))


def test_an_object_outside_the_reach_is_an_error(rendered: list[Manifest]) -> None:
    items = placed(rendered)
    path, obj = next((p, o) for p, o in items if o["kind"] == "VirtualService")
    moved = copy.deepcopy(obj)
    moved["metadata"]["namespace"] = "elsewhere"
    found = findings([*items, (path.replace(".shop.", ".elsewhere."), moved)])
    assert any("/metadata/namespace" in f and "elsewhere" in f for f in found)


def test_reach_lists_every_kind_of_the_table_once() -> None:
    scope = bootstrap.reach([])
    assert scope.kinds == kinds.MESH_KINDS
    assert len({(k.group, k.kind) for k in scope.kinds}) == len(scope.kinds)


def test_workloads_sync_last_and_subsets_before_routes() -> None:
    workloads = {kinds.DEPLOYMENT, kinds.HPA, kinds.PDB, kinds.SERVICE, kinds.CRON_JOB, kinds.JOB}
    last = max(k.wave for k in kinds.MESH_KINDS)
    assert {k.wave for k in workloads} == {last}
    assert all(k.wave < last for k in kinds.MESH_KINDS if k not in workloads)
    assert kinds.DESTINATION_RULE.wave < kinds.VIRTUAL_SERVICE.wave
