"""Objects that share a schema key pass or fail their schema alike (validate/schema_keys.py):
a key may only hide strings no constraint reads, and validation through the keys finds
exactly what validating every object finds, on real configuration and on mutations of it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from charts_py import yamlio
from charts_py.render.manifest import Manifest
from charts_py.validate import schema_keys, schemas
from tests.conftest import REPO

TESTDATA = REPO / "tests" / "testdata"


def _key(obj: dict[str, Any]) -> str:
    found = schemas._reads(obj["apiVersion"], obj["kind"])
    assert found is not None
    return schema_keys.key(obj, found)


def _rule(name: str, host: str, simple: str = "ROUND_ROBIN") -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {
            "host": host,
            "trafficPolicy": {"loadBalancer": {"simple": simple}},
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}],
        },
    }


def test_objects_that_differ_in_names_and_hosts_share_a_key() -> None:
    assert _key(_rule("cart", "cart.shop.svc.cluster.local")) == _key(
        _rule("payment", "payment.shop.svc.cluster.local")
    )


def test_a_value_an_enum_reads_is_kept() -> None:
    assert _key(_rule("cart", "cart")) != _key(_rule("cart", "cart", simple="LEAST_REQUEST"))


def test_a_length_a_schema_reads_is_kept_and_equal_strings_stay_equal() -> None:
    """Istio bounds workload selector label values (maxLength 63)."""

    def sidecar(app: str, hosts: list[str]) -> dict[str, Any]:
        return {
            "apiVersion": "networking.istio.io/v1",
            "kind": "Sidecar",
            "metadata": {"name": "s", "namespace": "shop"},
            "spec": {"workloadSelector": {"labels": {"app": app}}, "egress": [{"hosts": hosts}]},
        }

    assert _key(sidecar("cart", ["./a", "./b"])) == _key(sidecar("cake", ["./x", "./y"]))
    assert _key(sidecar("cart", ["./a"])) != _key(sidecar("c" * 64, ["./a"]))
    assert _key(sidecar("cart", ["./a", "./b"])) != _key(sidecar("cart", ["./a", "./a"]))


def test_a_read_property_is_kept_beside_map_values_that_are_not_read() -> None:
    """An object with declared properties and other keys as a map: from the object alone
    a key is either; `mode` is read (an enum), the others are not."""
    schema = {
        "properties": {
            "options": {
                "properties": {"mode": {"enum": ["a", "b"]}},
                "additionalProperties": {"type": "string"},
            }
        }
    }
    found = schema_keys.reads(schema, _resolving(schema))
    assert schema_keys.key({"options": {"mode": "a"}}, found) != schema_keys.key(
        {"options": {"mode": "b"}}, found
    )
    assert schema_keys.key({"options": {"other": "a"}}, found) == schema_keys.key(
        {"options": {"other": "b"}}, found
    )


def test_a_ref_cycle_keeps_everything_below_where_it_comes_back() -> None:
    schema = {"$defs": {"node": {"properties": {"name": {}, "child": {"$ref": "#/$defs/node"}}}}}
    found = schema_keys.reads(
        {"properties": {"root": {"$ref": "#/$defs/node"}}}, _resolving(schema)
    )
    one = {"root": {"name": "a", "child": {"name": "x"}}}
    two = {"root": {"name": "b", "child": {"name": "y"}}}
    assert schema_keys.key(one, found) != schema_keys.key(two, found)  # x and y are kept
    three = {"root": {"name": "c", "child": {"name": "x"}}}
    assert schema_keys.key(one, found) == schema_keys.key(three, found)  # a and c are not


def _resolving(document: dict[str, Any]) -> schema_keys.Resolve:
    def resolve(ref: str) -> tuple[Any, schema_keys.Resolve]:
        node: Any = document
        for step in ref.removeprefix("#/").split("/"):
            node = node[step]
        return node, resolve

    return resolve


def _real_objects() -> Iterator[dict[str, Any]]:
    """Every object with a schema in the configuration under tests/testdata (Istio's
    samples, the microservices demo, the corpora, validate's cases) and in the sample's
    dist/."""
    files = [*sorted(TESTDATA.rglob("*.yaml")), *sorted((REPO / "dist").rglob("*.yaml"))]
    for file in files:
        try:
            docs = list(yamlio.load_all(file.read_bytes()))
        except Exception:  # not YAML (a template, a broken case): not this test's matter
            continue
        for doc in docs:
            if _has_schema(doc):
                yield doc


def _has_schema(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
        return False
    return schemas.validator(str(doc.get("apiVersion", "")), doc["kind"]) is not None


def _mutations(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Twins of `obj` with one string changed: to another name, to a long one, to one no
    enum has; and with a field of the wrong type."""
    paths = list(_string_paths(obj, ()))
    for i, path in enumerate(paths[:20]):
        for value in (f"other-{i}", "x" * 300, "NOT_AN_ENUM_VALUE"):
            twin = copy.deepcopy(obj)
            _set(twin, path, value)
            yield twin
    wrong = copy.deepcopy(obj)
    wrong.setdefault("spec", {})
    if isinstance(wrong["spec"], dict):
        wrong["spec"]["replicas"] = "three"
        yield wrong


def _string_paths(value: Any, at: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield at
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _string_paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_paths(v, (*at, i))


def _set(obj: Any, path: tuple[Any, ...], value: str) -> None:
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


@pytest.fixture(scope="module")
def real() -> list[dict[str, Any]]:
    objects = list(_real_objects())
    assert len(objects) > 1000
    return objects


def test_validation_through_keys_finds_what_validating_each_object_finds(
    real: list[dict[str, Any]],
) -> None:
    """Each real object and its mutated twins, checked after the original passed (so a
    key it shares would vouch for it): the same violations as validating it by itself."""
    checked = failing = 0
    for obj in real:
        for candidate in [obj, *_mutations(obj)]:
            expected = tuple(schemas._violations(candidate))
            assert schemas.violations(candidate) == expected, (candidate, expected)
            checked += 1
            failing += bool(expected)
    assert failing > 1000 and checked > failing  # both kinds were exercised


def test_an_estate_of_like_objects_is_validated_a_few_times(
    rendered: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample's 800 objects fall into far fewer keys; every object still gets its own
    verdict (none of them fails)."""
    monkeypatch.setattr(schemas, "_PASSED", set())
    validated: list[str] = []
    direct = schemas._violations

    def counted(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
        validated.append(obj["kind"])
        return direct(obj)

    monkeypatch.setattr(schemas, "_violations", counted)
    assert all(schemas.violations(m.obj) == () for m in rendered)
    assert len(validated) < len(rendered) / 3
