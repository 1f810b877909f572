"""Generated custom resources match the packaged CRD schemas and the typed imports."""

from __future__ import annotations

import importlib

import pytest

from charts_py.constructs import kinds
from charts_py.render.manifest import Manifest
from charts_py.validate import crd_schema

TYPED_MODULES = {
    "networking.istio.io": "charts_py.imports.io.istio.networking",
    "security.istio.io": "charts_py.imports.io.istio.security",
    "telemetry.istio.io": "charts_py.imports.io.istio.telemetry",
    "monitoring.coreos.com": "charts_py.imports.com.coreos.monitoring",
    "argoproj.io": "charts_py.imports.io.argoproj",
}


def test_every_custom_resource_matches_its_crd(rendered: list[Manifest]) -> None:
    checked = 0
    for m in rendered:
        if kinds.Kind(m.obj["apiVersion"], m.obj["kind"], True, 0).group in TYPED_MODULES:
            assert list(crd_schema.errors(m.obj)) == [], m.path
            checked += 1
    assert checked > 200


def test_unknown_and_mistyped_fields_are_caught(rendered: list[Manifest]) -> None:
    rule = next(m.obj for m in rendered if m.obj["kind"] == "DestinationRule")
    typo = {**rule, "spec": {**rule["spec"], "trafficPolicy": {"loadBalancer": {"simpel": "X"}}}}
    assert [p for p, _ in crd_schema.errors(typo)] == ["/spec/trafficPolicy/loadBalancer"]
    wrong = {**rule, "spec": {**rule["spec"], "subsets": "v1"}}
    assert ("/spec/subsets", "'v1' is not of type 'array'") in list(crd_schema.errors(wrong))


@pytest.mark.parametrize(
    "kind",
    [
        k
        for k in (*kinds.MESH_KINDS, kinds.APP_PROJECT, kinds.APPLICATION_SET)
        if k.group in TYPED_MODULES
    ],
    ids=lambda k: k.kind,
)
def test_kind_table_agrees_with_generated_classes(kind: kinds.Kind) -> None:
    """kinds.py and the cdk8s-imported classes name the same apiVersion for each kind."""
    module = importlib.import_module(TYPED_MODULES[kind.group])
    assert getattr(module, kind.kind).GVK.api_version == kind.api_version
    assert (kind.api_version, kind.kind) in crd_schema.validators()
