"""Drift severity of fault injection: a fault route added to a prod VirtualService is critical."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from charts_py.drift import check, fetch, policy
from charts_py.drift.model import Severity, Status
from charts_py.objectref import ObjectRef
from tests.conftest import REPO

DESIRED = REPO / "dist/prod/prod-east/services/VirtualService.networking.istio.io.shop.reviews.yaml"
ABORT = {"abort": {"httpStatus": 503, "percentage": {"value": 100}}}


def _edited(desired: dict[str, Any], edit: str) -> dict[str, Any]:
    """Live after `kubectl edit`: Istio's route list is atomic, so the editor takes it over."""
    live = copy.deepcopy(desired)
    http = live["spec"]["http"]
    if edit == "added route":
        http.insert(0, {**http[0], "name": "chaos", "fault": ABORT})
    else:
        http[0]["fault"] = ABORT
    applied = {"f:metadata": {"f:labels": {}}, "f:spec": {"f:hosts": {}}}
    live["metadata"]["managedFields"] = [
        _entry("argocd-controller", "Apply", applied, "2025-01-01T00:00:00Z"),
        _entry("kubectl-edit", "Update", {"f:spec": {"f:http": {}}}, "2025-01-02T00:00:00Z"),
    ]
    return live


def _entry(manager: str, operation: str, fields: dict[str, Any], time: str) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": "networking.istio.io/v1",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        "time": time,
    }


@pytest.mark.parametrize("edit", ["added route", "fault in the default route"])
def test_live_fault_in_prod_is_critical(edit: str) -> None:
    desired = yaml.safe_load(DESIRED.read_text())
    assert not [r for r in desired["spec"]["http"] if "fault" in r]
    live = _edited(desired, edit)
    result = check.judge(desired, fetch.Live({ObjectRef.of(live).key: live}), policy.Policy(), None)
    assert result.status == Status.MODIFIED
    assert result.severity == Severity.CRITICAL
    (diff,) = result.differences
    assert diff.path.startswith("/spec/http") and diff.manager == "kubectl-edit"
    assert diff.severity == Severity.CRITICAL


def test_a_weight_change_stays_high() -> None:
    desired = yaml.safe_load(DESIRED.read_text())
    live = copy.deepcopy(desired)
    live["spec"]["http"][0]["route"][0]["weight"] = 50
    live["spec"]["http"][0]["route"][1]["weight"] = 50
    result = check.judge(desired, fetch.Live({ObjectRef.of(live).key: live}), policy.Policy(), None)
    assert result.severity == Severity.HIGH
