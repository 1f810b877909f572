"""Real configurations (Istio's samples, microservices-demo) expressed as environment files:
the rendered Istio objects equal the originals, spec by spec (tests/expressed.py says which
files each case reproduces and where meshops legitimately differs)."""

from __future__ import annotations

import pytest

from tests import expressed


@pytest.mark.parametrize("case", expressed.CASES, ids=lambda c: c.name)
def test_rendered_objects_equal_the_originals(case: expressed.Case) -> None:
    namespace, objects = expressed.rendered(case)
    ours = expressed.ours_in(namespace, objects)
    assert expressed.differences(case, namespace, ours) == []


def test_a_changed_route_is_a_difference() -> None:
    """The comparison can fail: the jason routes against the all-v1 originals differ."""
    case = next(c for c in expressed.CASES if c.name == "bookinfo-jason-v2-v3")
    namespace, objects = expressed.rendered(case)
    plain = next(c for c in expressed.CASES if c.name == "bookinfo")
    found = expressed.differences(plain, namespace, expressed.ours_in(namespace, objects))
    assert len(found) == 1 and found[0].startswith("VirtualService/reviews: spec differs")


def test_every_bookinfo_networking_variant_is_expressed_or_says_why_not() -> None:
    folder = expressed.TESTDATA / expressed.BOOKINFO
    variants = {f"{expressed.BOOKINFO}/{p.name}" for p in folder.glob("*.yaml")}
    used = {o for case in expressed.CASES for o in case.originals}
    assert len(variants) == 21
    assert variants - used == set(expressed.UNEXPRESSED)
    assert not set(expressed.UNEXPRESSED) & used
