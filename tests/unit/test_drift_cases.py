"""The drift core on recorded cases, without a control plane: tests/testdata/drift/
`<case>-desired.yaml` (the judged object first), `<case>-live.yaml` (recorded from a real API
server by scripts/record_drift_cases.py, or derived from a recording where the file says
so) and `<case>-expected.yaml` (verdict, paths, managers)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import yamlio
from charts_py.drift import check, defaults, fetch, model
from charts_py.drift.model import Status
from charts_py.drift.policy import Policy
from charts_py.errors import Forbidden
from charts_py.objectref import ObjectRef

CASES = Path(__file__).resolve().parents[1] / "testdata" / "drift"
NAMES = sorted(p.name.removesuffix("-expected.yaml") for p in CASES.glob("*-expected.yaml"))


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yamlio.load_all(path.read_text()) if isinstance(d, dict)]


def _judge(name: str, server: check.DryRunner | None = None) -> model.Result:
    desired = _docs(CASES / f"{name}-desired.yaml")
    live = fetch.from_dir(CASES / f"{name}-live.yaml")
    results = check.judge_all(desired, live, Policy(), env="e", cluster_name="c", server=server)
    return next(r for r in results if r.ref == ObjectRef.of(desired[0]))


def test_there_are_recorded_cases() -> None:
    assert len(NAMES) >= 8


@pytest.mark.parametrize("name", NAMES)
def test_recorded_case(name: str) -> None:
    (expected,) = _docs(CASES / f"{name}-expected.yaml")
    result = _judge(name)
    assert str(result.status) == expected["status"], result.differences
    assert [d.path for d in result.differences] == expected["paths"]
    assert [d.manager for d in result.differences] == expected["managers"]
    assert result.confirmed_by == model.NO_SERVER


class Refusing:
    """A read-only identity: every dry-run is forbidden."""

    def apply(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        raise Forbidden("PATCH: forbidden")


class Predicting:
    """A dry-run that predicts the live object unchanged (a sync would change nothing)."""

    def __init__(self, live: dict[str, Any]) -> None:
        self.live = live

    def apply(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        return copy.deepcopy(self.live)


def test_forbidden_dry_run_is_said_and_the_local_verdict_stands(tmp_path: Path) -> None:
    (live,) = _docs(CASES / "adopted-kubectl-create-deployment-live.yaml")
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:1"
    (tmp_path / "live.yaml").write_text(yaml.safe_dump(live))
    desired = _docs(CASES / "adopted-kubectl-create-deployment-desired.yaml")
    found = fetch.from_dir(tmp_path / "live.yaml")
    (result,) = check.judge_all(desired, found, Policy(), env="e", cluster_name="c",
                                server=Refusing())  # fmt: skip
    assert result.status == Status.MODIFIED and result.confirmed_by == model.FORBIDDEN
    assert [d.path for d in result.differences] == ["/spec/template/spec/containers/0/image"]
    assert _judge("adopted-kubectl-create-deployment", Refusing()).confirmed_by == (
        model.NOT_NEEDED
    )


def test_a_dry_run_predicting_no_change_leaves_only_ownership_drift() -> None:
    (live,) = _docs(CASES / "adopted-deployment-extra-env-live.yaml")
    result = _judge("adopted-deployment-extra-env", Predicting(live))
    assert result.confirmed_by in (model.DRY_RUN, model.NOT_NEEDED)
    assert [d.path for d in result.differences] == ["/spec/template/spec/containers/0/env"]


def test_without_the_defaults_table_adoption_would_be_drift(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The table is what makes the adoption cases pass (not some other leniency)."""
    monkeypatch.setattr(defaults, "table", lambda: {})
    result = _judge("adopted-kubectl-create-deployment")
    assert result.status == Status.MODIFIED
    assert "/spec/progressDeadlineSeconds" in {d.path for d in result.differences}
