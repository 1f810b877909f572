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

CRD_GROUPS = frozenset(crd_schema.groups())
"""The API groups of the packaged CRDs (Istio, prometheus-operator, Argo CD, Gateway API)."""


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
    """kinds.py names an API version the packaged CRD of each custom kind serves."""
    assert (kind.api_version, kind.kind) in crd_schema.served(kind.group)


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1", "v1"])
def test_every_served_istio_version_is_checked(version: str, rendered: list[Manifest]) -> None:
    """The API server serves v1alpha3, v1beta1 and v1 with one schema: a typo is an error at
    every version, not only at the one meshops writes."""
    rule = next(m.obj for m in rendered if m.obj["kind"] == "DestinationRule")
    policy = {"outlierDetection": {"consecutiveErrorz": 5}}
    typo = {**rule, "apiVersion": f"networking.istio.io/{version}"}
    typo["spec"] = {**rule["spec"], "trafficPolicy": policy}
    assert [p for p, _ in crd_schema.errors(typo)] == ["/spec/trafficPolicy/outlierDetection"]
    assert list(crd_schema.errors({**rule, "apiVersion": f"networking.istio.io/{version}"})) == []


def _http_route(api_version: str, rule: dict[str, object]) -> dict[str, object]:
    return {
        "apiVersion": api_version,
        "kind": "HTTPRoute",
        "metadata": {"name": "reviews", "namespace": "shop"},
        "spec": {"parentRefs": [{"name": "web"}], "rules": [rule]},
    }


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_gateway_api_objects_are_checked(version: str) -> None:
    api = f"gateway.networking.k8s.io/{version}"
    good = {"backendRefs": [{"name": "reviews", "port": 9080}]}
    assert list(crd_schema.errors(_http_route(api, good))) == []
    typo = {"backendRefz": [{"name": "reviews", "port": 9080}]}
    assert [p for p, _ in crd_schema.errors(_http_route(api, typo))] == ["/spec/rules/0"]


def test_gateway_api_alpha_versions_come_from_the_experimental_channel() -> None:
    """TCPRoute v1alpha2 is served only by the experimental channel; it is checked by it."""
    assert ("gateway.networking.k8s.io/v1alpha2", "TCPRoute") not in crd_schema.served(
        crd_schema.GATEWAY_API, "standard"
    )
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1alpha2",
        "kind": "TCPRoute",
        "metadata": {"name": "db"},
        "spec": {"rules": [{"backendRefs": [{"name": "db", "port": 5432}]}], "hostnamez": []},
    }
    assert [p for p, _ in crd_schema.errors(route)] == ["/spec"]


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
