"""The speed tricks change nothing but time, on the real API server: with and without
MESHOPS_PLAIN=1, drift reaches the same report on a synced slice of the sample with a hand
edit and a deletion (the parse worker forced on, to compare)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from charts_py import speed
from charts_py.drift import formats, parse
from charts_py.speed import fork
from tests.integration.drift_env import Scenario, diverged


def _report(scenario: Scenario) -> str:
    report = scenario.drift()
    return formats.json_text(dataclasses.replace(report, started_at="", finished_at=""))


def test_drift_reports_the_same_with_and_without_the_tricks(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    scenario.kubectl("delete", "service", "cart")
    forked: list[Any] = []
    init = fork.Worker.__init__

    def counted(self: fork.Worker, *args: Any, **kwargs: Any) -> None:
        forked.append(args)
        init(self, *args, **kwargs)

    monkeypatch.setattr(parse, "MIN_FILES", 1)
    monkeypatch.setattr(fork, "_cores", lambda: 2)
    monkeypatch.setattr(fork.Worker, "__init__", counted)
    monkeypatch.delenv(speed.SWITCH, raising=False)
    with_tricks = _report(scenario)
    assert len(forked) == 1  # the parse worker ran
    monkeypatch.setenv(speed.SWITCH, "1")
    assert _report(scenario) == with_tricks
    assert len(forked) == 1  # and did not, plain
    assert {("Deployment", "payment-v1"), ("Service", "cart")} <= set(diverged(scenario.drift()))
