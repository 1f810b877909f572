"""Generated custom resources match the packaged CRD schemas (charts_py/crds)."""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest

from charts_py import kinds, yamlio
from charts_py.objectref import group_of
from charts_py.render.manifest import Manifest
from charts_py.validate import crd_schema

CRD_GROUPS = frozenset(group_of(api_version) for api_version, _ in crd_schema.validators())
"""The API groups of the packaged CRDs (Istio, prometheus-operator, Argo CD)."""


def test_every_custom_resource_matches_its_crd(rendered: list[Manifest]) -> None:
    checked = 0
    for m in rendered:
        if group_of(m.obj["apiVersion"]) in CRD_GROUPS:
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
        if k.group in CRD_GROUPS
    ],
    ids=lambda k: k.kind,
)
def test_kind_table_agrees_with_packaged_crds(kind: kinds.Kind) -> None:
    """kinds.py names the one API version the packaged CRD of each custom kind serves."""
    assert (kind.api_version, kind.kind) in crd_schema.validators()


def _packaged(name: str) -> Traversable:
    return resources.files("charts_py") / "crds" / name


def test_parsed_crds_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = _packaged("gateways.networking.istio.io.yaml")
    parsed = crd_schema._parsed(entry)
    assert parsed == yamlio.load(entry.read_bytes())
    (cached,) = crd_schema.cache_dir().iterdir()
    assert (
        cached.name.startswith("gateways.networking.istio.io.yaml.")
        and json.loads(cached.read_text()) == parsed
    )

    def unparsable(_: bytes) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(crd_schema.yamlio, "load", unparsable)
    assert crd_schema._parsed(entry) == parsed
    other = _packaged("sidecars.networking.istio.io.yaml")
    with pytest.raises(AssertionError, match="parsed again"):
        crd_schema._parsed(other)  # a different file is its own entry


def test_crds_load_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    entry = _packaged("gateways.networking.istio.io.yaml")
    assert crd_schema._parsed(entry) == yamlio.load(entry.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]
