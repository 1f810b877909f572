"""One object identity (ObjectRef) and one spelling of the core group, for every package."""

from __future__ import annotations

from charts_py.objectref import CORE_GROUP, ObjectRef, group_label
from charts_py.render import manifest


def test_core_group_is_spelled_empty_and_shown_as_core() -> None:
    ref = ObjectRef.of({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}})
    assert ref.group == CORE_GROUP == ""
    assert group_label(ref.group) == "core"
    assert ref.file_name() == "Service.core._cluster.a.yaml"


def test_dist_file_names_and_identity_come_from_the_ref() -> None:
    obj = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "shop"},
    }
    assert manifest.file_name(obj) == "VirtualService.networking.istio.io.shop.reviews.yaml"
    placed = manifest.Manifest("dev/dev/mesh/x.yaml", "mesh", obj)
    assert placed.identity == "VirtualService/shop/reviews"
    assert str(ObjectRef.of(obj)) == "VirtualService shop/reviews"


def test_reports_spell_identity_the_same_way() -> None:
    ref = ObjectRef("apps/v1", "Deployment", "shop", "cart-v1")
    assert list(ref.to_json().items()) == [
        ("apiVersion", "apps/v1"),
        ("kind", "Deployment"),
        ("namespace", "shop"),
        ("name", "cart-v1"),
    ]
