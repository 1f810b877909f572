"""Real configuration we did not write: Istio's samples/ (istio/istio 86c9f01f) and
microservices-demo (34ffea91), committed with their licenses under tests/testdata.

Checked one scenario at a time (tests/testdata/real-world/scenarios.yaml: a sample's
objects with the workloads they refer to), the dev profile raises no error. Checked as whole
directories, as a new user first runs it, there is no schema error, no abort, no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli, yamlio
from charts_py.validate import engine, repository
from charts_py.validate.findings import Severity

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
SCENARIOS: list[dict[str, Any]] = yamlio.load(
    (TESTDATA / "real-world" / "scenarios.yaml").read_text()
)
RUNS = [(s, each) for s in SCENARIOS for each in s["each"]]


@pytest.mark.parametrize(("scenario", "each"), RUNS, ids=[e for _, e in RUNS])
def test_a_scenario_raises_no_error_under_dev(scenario: dict[str, Any], each: str) -> None:
    loaded = repository.load([TESTDATA / p for p in [*scenario["with"], each]])
    report = engine.validate(loaded.docs, "dev")
    errors = [f.text for f in report.findings if f.severity is Severity.ERROR]
    assert errors == []


def test_every_sample_of_mesh_configuration_is_in_a_scenario() -> None:
    """Every file of samples/ with Istio or Gateway API configuration is checked in context,
    but for the ambient sample's Argo CD bootstrap of Istio itself (Helm values)."""
    named = {p for s in SCENARIOS for p in [*s["with"], *s["each"]]}
    groups = ("networking.istio.io", "security.istio.io", "telemetry.istio.io")
    missed = []
    for file in sorted((TESTDATA / "istio" / "samples").rglob("*.yaml")):
        rel = file.relative_to(TESTDATA).as_posix()
        text = file.read_text()
        mesh = any(g in text for g in (*groups, "gateway.networking.k8s.io"))
        if mesh and rel not in named and not any(p in rel for p in _BOOTSTRAP):
            missed.append(rel)
    assert missed == []


_BOOTSTRAP = ("ambient-argo/istio/", "ambient-argo/tag-chart/", "ambient-argo/meta-application")


@pytest.mark.parametrize(
    ("folder", "exclude"),
    [
        ("istio/samples", ["cicd", "*/tag-chart", "swagger.yaml"]),
        ("microservices-demo", ["release"]),
    ],
)
def test_a_whole_directory_runs_without_schema_errors(
    capsys: pytest.CaptureFixture[str], folder: str, exclude: list[str]
) -> None:
    args = ["validate", str(TESTDATA / folder), "--env", "dev", "--no-istioctl"]
    args += ["--format", "json", *(f"--exclude={g}" for g in exclude)]
    code = cli.main(args)
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert "Traceback" not in captured.err
    body = json.loads(captured.out)
    assert [f for f in body["findings"] if f["rule"] == "schema"] == []
    noted = " ".join(body["notes"])
    for glob in exclude:
        assert f"/{glob.strip('*/')}" not in noted
