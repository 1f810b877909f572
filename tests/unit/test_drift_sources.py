"""A drift difference's source: looked up at git's coordinates, never live's list positions."""

from __future__ import annotations

from typing import Any

from charts_py import provenance
from charts_py.drift import sources
from charts_py.drift.model import Change, Difference, Result, Status
from charts_py.objectref import ObjectRef
from charts_py.provenance import EnvField, Generated

REF = ObjectRef("apps/v1", "Deployment", "shop", "payment-v1")
CONTAINER = "/spec/template/spec/containers/0"
BUILT = Generated("MeshService construct")
LOG = EnvField("environments/staging.yaml", "services[6].env.LOG_LEVEL", exact=False)
LOG_VALUE = EnvField("environments/staging.yaml", "services[6].env.LOG_LEVEL")
IMAGE = EnvField("environments/staging.yaml", "services[6].image")


def deployment(env: list[dict[str, str]], image: str = "shop/payment:1") -> dict[str, Any]:
    container = {"name": "payment", "image": image, "env": env}
    spec = {"template": {"spec": {"containers": [container]}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "payment-v1",
            "namespace": "shop"}, "spec": spec}  # fmt: skip


GIT = deployment([{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu"}])
# A hotfix variable inserted at index 0 and LOG_LEVEL changed: git's items moved down by one.
LIVE = deployment(
    [{"name": "HOTFIX", "value": "1"}, {"name": "LOG_LEVEL", "value": "debug"},
     {"name": "REGION", "value": "eu"}],
    image="evil:1",
)  # fmt: skip


def lookup() -> sources.Lookup:
    prov = provenance.Provenance("staging", "staging-1", "environments/staging.yaml")
    prov.objects[provenance.ref_key(REF)] = provenance.ObjectProvenance(
        BUILT,
        {
            f"{CONTAINER}/image": IMAGE,
            f"{CONTAINER}/env/0": LOG,
            f"{CONTAINER}/env/0/value": LOG_VALUE,
        },
    )
    return sources.Lookup(prov)


def source(path: str, change: Change = Change.CHANGED, desired: Any = None) -> provenance.Origin:
    diff = Difference(path=path, change=change, desired=desired)
    (result,) = sources.attach(
        [Result(REF, Status.MODIFIED, (diff,))], [GIT], {REF.key: LIVE}, lookup()
    )
    found = result.differences[0].source
    assert found is not None
    return found


def test_a_changed_value_takes_the_source_recorded_at_its_pointer() -> None:
    assert source(f"{CONTAINER}/image") == IMAGE


def test_keyed_list_items_are_matched_by_key_not_live_position() -> None:
    # live's env/1 is git's env/0 (LOG_LEVEL), not git's env/1 (REGION).
    assert source(f"{CONTAINER}/env/1/value") == LOG_VALUE


def test_an_item_git_does_not_have_takes_its_nearest_ancestors_source() -> None:
    # HOTFIX at live index 0 is not git's first variable: the env list's source, the object's.
    assert source(f"{CONTAINER}/env/0", Change.ADDED) == BUILT
    assert source("/metadata/labels/team", Change.ADDED) == BUILT


def test_a_removed_item_is_found_by_the_key_it_carries() -> None:
    removed = {"name": "LOG_LEVEL", "value": "info"}
    assert source(f"{CONTAINER}/env/-", Change.REMOVED, removed) == LOG


def test_lists_without_keys_are_matched_by_position() -> None:
    vs_ref = ObjectRef("networking.istio.io/v1", "VirtualService", "shop", "payment")
    timeout = EnvField("environments/staging.yaml", "services[6].timeout")
    prov = provenance.Provenance("staging", "staging-1", "environments/staging.yaml")
    prov.objects[provenance.ref_key(vs_ref)] = provenance.ObjectProvenance(
        BUILT, {"/spec/http/1/timeout": timeout}
    )
    routes = [{"name": "chaos"}, {"name": "default", "timeout": "15s"}]
    meta = {"name": "payment", "namespace": "shop"}
    git = {"apiVersion": vs_ref.api_version, "kind": vs_ref.kind, "metadata": meta,
           "spec": {"http": routes}}  # fmt: skip
    diff = Difference(path="/spec/http/1/timeout", change=Change.CHANGED, desired="15s", live="60s")
    (result,) = sources.attach(
        [Result(vs_ref, Status.MODIFIED, (diff,))], [git], {vs_ref.key: git}, sources.Lookup(prov)
    )
    assert result.differences[0].source == timeout


def test_without_a_side_file_sources_are_unknown_and_the_report_says_so() -> None:
    found, note = sources.load(None, None, "0123456789abcdef")
    assert note is not None and "0123456789ab" in note
    diff = Difference(path=f"{CONTAINER}/image", change=Change.CHANGED)
    (result,) = sources.attach([Result(REF, Status.MODIFIED, (diff,))], [GIT], {}, found)
    assert result.differences[0].source == Generated("unknown: no provenance at 0123456789ab")


def test_lines_come_from_the_environment_file_of_the_same_commit() -> None:
    side = lookup().recorded
    assert side is not None
    text = "services:\n  - name: a\n  - name: payment\n    image: shop/payment:1\n"
    side.objects[provenance.ref_key(REF)].fields[f"{CONTAINER}/image"] = EnvField(
        "environments/staging.yaml", "services[1].image"
    )
    found, note = sources.load(side.to_bytes(), text, "0" * 40)
    assert note is None
    assert found.source(REF, f"{CONTAINER}/image") == EnvField(
        "environments/staging.yaml", "services[1].image", line=4
    )


def test_an_unreadable_side_file_leaves_sources_unknown_never_a_crash() -> None:
    for data in (b"{not json", b'{"schemaVersion": 99}', b'{"schemaVersion": 1}'):
        found, note = sources.load(data, None, "0123456789abcdef")
        assert note is not None and "0123456789ab" in note
        assert found.source(REF, "/spec") == Generated(
            "unknown: unreadable provenance at 0123456789ab"
        )
