"""git's manifests parsed in two processes, and local verdicts reached while the run still
reads: the same objects, errors and verdicts as one process reading everything first."""

from __future__ import annotations

import copy
import itertools
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from charts_py import kubeapi, yamlio
from charts_py.drift import check, fetch, model, parse
from charts_py.drift.model import Status
from charts_py.drift.policy import Policy
from charts_py.errors import ConfigError, Forbidden
from charts_py.objectref import ObjectRef, group_of
from charts_py.speed import fork

CASES = Path(__file__).resolve().parents[1] / "testdata" / "drift"


def manifests(count: int) -> list[tuple[str, bytes]]:
    """`count` small, distinct ConfigMaps, as git's files."""
    return [
        (
            f"dist/e/c/app/ConfigMap.core.ns.cm-{i:05d}.yaml",
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: ns}}\n"
            f"data: {{n: '{i}', port: 80, on: yes}}\n".encode(),
        )
        for i in range(count)
    ]


COUNT = parse.MIN_FILES * 2 + 7  # above the threshold, and more than one chunk each side


def test_the_worker_parses_what_one_process_parses() -> None:
    files = manifests(COUNT)
    expected = [yamlio.load(data) for _, data in files]
    with parse.Parser() as parser:
        chunks = list(parser.stream(files))
        shared = parser._worker is not None  # two cores: the worker parses from the front
    assert parse.in_order(iter(chunks), COUNT) == expected
    spans = sorted((start, start + len(objects)) for start, objects in chunks)
    assert spans[0][0] == 0 and spans[-1][1] == COUNT
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no gap, no overlap
    if shared:  # the worker's chunks come first in file order, this process's batches last
        sizes = [end - start for start, end in spans]
        assert sizes[0] == parse.CHUNK and sizes[-1] <= parse.BATCH


def test_values_marshal_cannot_carry_come_back_too() -> None:
    """An unquoted date is a datetime.date to PyYAML (and to the server, a string)."""
    files = manifests(COUNT)
    files[-2] = (
        files[-2][0],
        files[-2][1] + b"metadata: {name: d, annotations: {at: 2026-12-02}}\n",
    )
    with parse.Parser() as parser:
        parsed = parser.objects(files)
    assert parsed == [yamlio.load(data) for _, data in files]
    assert type(parsed[-2]["metadata"]["annotations"]["at"]).__name__ == "date"


@pytest.mark.parametrize("bad_at", [3, COUNT - 5])  # here, and in the worker's share
def test_the_first_bad_file_in_path_order_is_the_error(bad_at: int) -> None:
    files = manifests(COUNT)
    files[bad_at] = (files[bad_at][0], b"apiVersion: v1\nkind: [unclosed\n")
    files[-1] = (files[-1][0], b"just text\n")  # a later bad file is not the one reported
    with parse.Parser() as parser, pytest.raises(ConfigError) as e:
        parser.objects(files)
    assert e.value.file == files[bad_at][0]
    assert "malformed YAML" in e.value.reason


def test_a_worker_that_died_leaves_the_parse_to_this_process() -> None:
    files = manifests(COUNT)
    with parse.Parser() as parser:
        chunks = parser.stream(files)
        worker = parser._worker
        if worker is not None:
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.exit_code() == -signal.SIGKILL
        assert parse.in_order(chunks, COUNT) == [yamlio.load(data) for _, data in files]


def test_a_lock_nobody_releases_leaves_the_parse_to_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process killed while holding the lock on the bounds (here: the test holds it)."""
    monkeypatch.setattr(parse, "LOCK_WAIT", 0.2)
    files = manifests(COUNT)
    with parse.Parser() as parser:
        chunks = parser.stream(files)
        if parser._worker is not None:
            assert parser._bounds.get_lock().acquire(timeout=5)
        assert parse.in_order(chunks, COUNT) == [yamlio.load(data) for _, data in files]


def test_without_posix_semaphores_everything_is_parsed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container without /dev/shm cannot make the lock on the bounds."""

    class NoSharedMemory:
        def Array(self, *_: object, **__: object) -> None:  # multiprocessing's name for it
            raise FileNotFoundError(2, "No such file or directory", "/dev/shm/sem.mp-x")

    monkeypatch.setattr(fork.multiprocessing, "get_context", lambda _: NoSharedMemory())
    files = manifests(COUNT)
    with parse.Parser() as parser:
        assert parser.objects(files) == [yamlio.load(data) for _, data in files]
        assert parser._worker is None


def test_few_files_need_no_worker() -> None:
    with parse.Parser() as parser:
        assert len(parser.objects(manifests(parse.MIN_FILES - 1))) == parse.MIN_FILES - 1
        assert parser._worker is None


# --- early verdicts ---------------------------------------------------------------------------


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yamlio.load_all(path.read_text()) if isinstance(d, dict)]


class Recorded:
    """A LiveReader answering the label-selected LIST of one kind with recorded objects
    (every other kind: nothing, or `refuse` for Roles-only RBAC)."""

    def __init__(
        self, items: list[dict[str, Any]], refuse: bool = False, hold: bool = False
    ) -> None:
        self.items, self.refuse = items, refuse
        self.answer = threading.Event()  # a LIST answers once this is set
        if not hold:
            self.answer.set()

    def served(self, api_version: str, kind: str) -> kubeapi.Resource:
        return kubeapi.Resource(api_version, kind, kind.lower() + "s", True)

    def list(
        self,
        resource: kubeapi.Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> list[dict[str, Any]]:
        assert self.answer.wait(10)
        if self.refuse:
            raise Forbidden(f"LIST {resource.plural}: forbidden")
        return [i for i in self.items if i["kind"] == resource.kind]


def _early(case: str, refuse: bool = False) -> tuple[dict[str, Any], dict[str, Any], check.Early]:
    (desired,) = _docs(CASES / f"{case}-desired.yaml")[:1]
    live = _docs(CASES / f"{case}-live.yaml")[0]
    with fetch.Labelled(Recorded([live], refuse), "e", "c") as labelled:
        early = check.Early(labelled, Policy())
        early.judge([desired])
        early.finish()
    return desired, live, early


def _final(desired: dict[str, Any], live: fetch.Live, early: check.Early) -> model.Result:
    results = check.judge_all(
        [desired], live, Policy(), env="e", cluster_name="c", server=None, early=early
    )
    return results[0]


def test_an_early_verdict_is_the_verdict_on_the_same_live_object() -> None:
    desired, live, early = _early("adopted-kubectl-create-deployment")
    key = ObjectRef.of(desired).key
    judged_desired, judged_live, verdict = early.results[key]
    assert judged_desired is desired and judged_live is live
    assert verdict.status == Status.IN_SYNC
    assert verdict.confirmed_by == model.NOT_NEEDED  # a server was at hand, nothing to ask
    assert _final(desired, fetch.Live({key: live}), early) is verdict


def test_an_early_verdict_does_not_stand_for_another_read_of_the_object() -> None:
    """A later LIST (of a namespace) may read a newer version: it is judged again."""
    desired, live, early = _early("adopted-kubectl-create-deployment")
    key = ObjectRef.of(desired).key
    newer = copy.deepcopy(live)
    newer["spec"]["template"]["spec"]["containers"][0]["image"] = "edited:by-hand"
    result = _final(desired, fetch.Live({key: newer}), early)
    assert result.status == Status.MODIFIED
    assert any(d.path.endswith("/image") for d in result.differences)


def test_an_early_verdict_is_for_the_one_of_git_s_objects_it_judged() -> None:
    """git may hold an object twice (two files): the last one is judged, as without `early`."""
    desired, live, early = _early("adopted-kubectl-create-deployment")
    again = copy.deepcopy(desired)
    again["spec"]["template"]["spec"]["containers"][0]["image"] = "another:image"
    key = ObjectRef.of(desired).key
    results = check.judge_all(
        [desired, again], fetch.Live({key: live}), Policy(), env="e", cluster_name="c",
        server=None, early=early,
    )  # fmt: skip
    assert results[0].status == Status.MODIFIED


def test_an_early_verdict_does_not_stand_when_its_kind_could_not_be_read() -> None:
    desired, live, early = _early("adopted-kubectl-create-deployment")
    ref = ObjectRef.of(desired)
    failed = fetch.Live({ref.key: live}, errors={ref.group_kind: "LIST: 503 (gave up)"})
    assert _final(desired, failed, early).status == Status.UNKNOWN


def test_a_forbidden_label_selected_list_leaves_judging_for_later() -> None:
    _, _, early = _early("adopted-kubectl-create-deployment", refuse=True)
    assert early.results == {}


def test_an_object_whose_list_has_not_answered_is_judged_when_it_arrives() -> None:
    """Parsing on beats waiting: the object waits for its kind's LIST, not the parse."""
    (desired,) = _docs(CASES / "adopted-kubectl-create-deployment-desired.yaml")[:1]
    live = _docs(CASES / "adopted-kubectl-create-deployment-live.yaml")[0]
    reader = Recorded([live], hold=True)
    with fetch.Labelled(reader, "e", "c") as labelled:
        early = check.Early(labelled, Policy())
        early.judge([desired])
        assert early.results == {}
        reader.answer.set()
        early.finish()
        assert early.results[ObjectRef.of(desired).key][1] is live


def test_each_label_selected_list_arrives_once_failed_ones_empty_handed() -> None:
    live = _docs(CASES / "adopted-kubectl-create-deployment-live.yaml")[0]
    for refuse in (False, True):
        with fetch.Labelled(Recorded([live], refuse), "e", "c") as labelled:
            arrived = {listed.group_kind: listed.items for listed in labelled.arrived(wait=True)}
            assert list(labelled.arrived(wait=True)) == []
        assert arrived.keys() == {(group_of(v), k) for v, k in fetch.KNOWN_KINDS}
        if refuse:
            assert all(items is None for items in arrived.values())
        else:
            assert arrived[("apps", "Deployment")] == [live]
            assert arrived[("", "Service")] == []
