"""Argo CD's own diff fixtures (gitops-engine pkg/diff/testdata) replayed through drift: the
config as git's object, the live file read as a `--live-dir` dump, the recorded dry-run
answer as the server. meshops reaches gitops-engine's verdict on each, except where
tests/testdata/gitops-engine/cases.yaml says why not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from charts_py import jsonpointer, yamlio
from charts_py.drift import check, fetch, model
from charts_py.drift.model import Status
from charts_py.drift.policy import Policy
from charts_py.objectref import ObjectRef

FIXTURES = Path(__file__).resolve().parents[1] / "testdata" / "gitops-engine"
CASES: list[dict[str, Any]] = yamlio.load((FIXTURES / "cases.yaml").read_text())


class Recorded:
    """A dry-run answering with gitops-engine's recorded prediction."""

    def __init__(self, predicted: dict[str, Any]) -> None:
        self.predicted = predicted
        self.asked = 0

    def apply(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.asked += 1
        return copy.deepcopy(self.predicted)


def _edited(obj: dict[str, Any], set_: dict[str, Any], remove: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for ptr, value in set_.items():
        *parents, last = jsonpointer.tokens(ptr)
        _at(out, parents)[last] = value
    for ptr in remove:
        *parents, last = jsonpointer.tokens(ptr)
        del _at(out, parents)[last]
    return out


def _at(obj: dict[str, Any], steps: list[str]) -> dict[str, Any]:
    for step in steps:
        obj = obj[step]
    return obj


def _replay(case: dict[str, Any], tmp_path: Path) -> tuple[model.Result, Recorded | None]:
    config = yamlio.load((FIXTURES / case["config"]).read_text())
    if "namespace" in case:
        config["metadata"]["namespace"] = case["namespace"]
    config = _edited(config, case.get("set", {}), case.get("remove", []))
    live_file = FIXTURES / case["live"]
    if "live_set" in case:
        live_obj = _edited(yamlio.load(live_file.read_text()), case["live_set"], [])
        live_file = tmp_path / case["live"]
        live_file.write_text(json.dumps(live_obj))
    server = None
    if "predicted" in case:
        server = Recorded(yamlio.load((FIXTURES / case["predicted"]).read_text()))
    live = fetch.from_dir(live_file)
    results = check.judge_all([config], live, Policy(), env="e", cluster_name="c", server=server)
    return next(r for r in results if r.ref == ObjectRef.of(config)), server


def test_every_upstream_fixture_pair_is_replayed() -> None:
    used = {case[k] for case in CASES for k in ("config", "live", "predicted") if k in case}
    data = {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".yaml")}
    assert used == data - {"cases.yaml"}
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_meshops_reaches_gitops_engines_verdict(case: dict[str, Any], tmp_path: Path) -> None:
    result, server = _replay(case, tmp_path)
    expected = case.get("meshops", case["modified"])
    assert result.status in (Status.IN_SYNC, Status.MODIFIED), result
    assert (result.status == Status.MODIFIED) == expected, result.differences
    assert ("why" in case) == (expected != case["modified"])  # every disagreement says why
    if server is not None and server.asked:  # a local difference, confirmed by the recording
        assert result.confirmed_by == model.DRY_RUN
