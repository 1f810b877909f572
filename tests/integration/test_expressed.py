"""Real configurations expressed as environment files, on the real API server and istioctl.

For each case of tests/expressed.py, the original objects and meshops's rendered ones are
server-side applied to the local control plane (real CRDs, schemas and CEL rules), each side
in a namespace of its own; the specs the server stores then compare exactly as the unit test
compares them. And `istioctl analyze` says nothing about the rendered objects that it does
not say about the originals (each next to the same workloads).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import kubeapi
from charts_py.validate import istioctl
from tests import expressed, tools

MANAGER = "meshops-tests"


@pytest.fixture
def two_namespaces(kube: kubeapi.Cluster) -> Iterator[tuple[str, str]]:
    """(originals', ours) namespaces, fresh, deleted afterwards."""
    suffix = uuid.uuid4().hex[:6]
    names = (f"t-original-{suffix}", f"t-ours-{suffix}")
    for name in names:
        kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            field_manager=MANAGER,
        )
    yield names
    for name in names:
        kube.request("DELETE", f"/api/v1/namespaces/{name}")


def _stored(kube: kubeapi.Cluster, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """`obj` applied into `namespace`, as the server stores it."""
    placed = {**obj, "metadata": {"name": obj["metadata"]["name"], "namespace": namespace}}
    return kube.apply(placed, field_manager=MANAGER)


@pytest.mark.parametrize("case", expressed.CASES, ids=lambda c: c.name)
def test_stored_specs_equal_the_originals(
    kube: kubeapi.Cluster, two_namespaces: tuple[str, str], case: expressed.Case
) -> None:
    theirs, mine = two_namespaces
    namespace, objects = expressed.rendered(case)
    originals = {key: _stored(kube, obj, theirs) for key, obj in expressed.originals(case).items()}
    ours = {
        key: _stored(kube, obj, mine) for key, obj in expressed.ours_in(namespace, objects).items()
    }
    assert expressed.compare(case, originals, namespace, ours) == []


@pytest.fixture(scope="module")
def binary() -> str:
    """As test_istioctl.py finds it: ISTIOCTL or PATH, else the pinned build (CI=true fails
    without one, a developer's run skips)."""
    return istioctl.locate() or str(tools.pinned("istioctl"))


@pytest.mark.parametrize("case", expressed.CASES, ids=lambda c: c.name)
def test_istioctl_raises_nothing_new(binary: str, tmp_path: Path, case: expressed.Case) -> None:
    """Both sides next to the same workloads (meshops's Services and Deployments): every
    message about the rendered objects is one istioctl also gives about the originals."""
    namespace, objects = expressed.rendered(case)
    ours = expressed.ours_in(namespace, objects)
    workloads = [o for o in objects if (o["kind"], o["metadata"]["name"]) not in ours]
    originals = [
        {**o, "metadata": {**o["metadata"], "namespace": namespace}}
        for o in expressed.originals(case).values()
    ]
    said_ours = _codes(binary, tmp_path / "ours.yaml", [*workloads, *ours.values()])
    said_theirs = _codes(binary, tmp_path / "theirs.yaml", [*workloads, *originals])
    assert said_ours - said_theirs == set()


def _codes(binary: str, file: Path, objects: list[dict[str, Any]]) -> set[str]:
    file.write_text(yaml.safe_dump_all(objects, sort_keys=True))
    return {f"{m.code} {m.kind}" for m in istioctl.analyze(binary, [str(file)]).messages}
