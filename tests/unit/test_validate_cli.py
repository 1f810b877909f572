"""`meshops validate` / `meshops audit` end to end: the committed dist, formats, exit codes,
and synth refusing to write manifests that break a rule."""

from __future__ import annotations

import copy
import itertools
import json
import multiprocessing
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from charts_py import cli
from charts_py.config import environment
from charts_py.render import checks
from charts_py.render.dist import read_tree
from charts_py.render.manifest import Manifest
from charts_py.validate import documents, engine, repository, targets
from charts_py.validate.findings import Severity
from charts_py.validate.rules.catalog import RULES
from tests.conftest import REPO, SAMPLE_ENVIRONMENTS, sample, write_envs

CASES = REPO / "tests" / "testdata" / "validate"
DIST = ["--dist", str(REPO / "dist"), "--environments", str(SAMPLE_ENVIRONMENTS)]
CONTRACT_KEYS = {"rule", "severity", "apiVersion", "kind", "namespace", "name", "path", "message"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_committed_dist_has_no_errors_or_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--format", "json", *DIST)
    body = json.loads(out)
    assert code == 0
    assert body["summary"]["error"] == 0 and body["summary"]["warning"] == 0, body["findings"]
    # dev and staging inject faults on purpose (header-gated in staging): info only.
    assert {(f["rule"], f["name"]) for f in body["findings"]} == {
        ("fault-injection", "reviews"),
        ("fault-injection", "payment"),
        ("fault-injection", "cart"),  # dev's cart-errors experiment
        ("fault-injection", "checkout"),  # ambient's legacy namespace, still on sidecars
    }


def test_rendered_manifests_pass_the_synth_hook(rendered: list[Manifest]) -> None:
    envs = environment.load_all(SAMPLE_ENVIRONMENTS)
    warnings = checks.validated(rendered, envs, Path("dist"))
    assert warnings == []


def test_json_format_keeps_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    path = CASES / "route-weights" / "sum-fail.yaml"
    code, out, _ = run(capsys, "validate", str(path), "--format", "json", "--no-istioctl")
    body = json.loads(out)
    assert code == 1
    assert set(body["summary"]) == {"error", "warning", "info"}
    assert body["summary"]["error"] == sum(1 for f in body["findings"] if f["severity"] == "error")
    for finding in body["findings"]:
        assert set(finding) >= CONTRACT_KEYS
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["path"].startswith("/")
        assert finding["file"] == str(path)
    weights = next(f for f in body["findings"] if f["rule"] == "route-weights")
    assert weights | {"message": ""} == {
        "rule": "route-weights",
        "severity": "error",
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "namespace": "shop",
        "name": "reviews",
        "path": "/spec/http/0/route",
        "message": "",
        "file": str(path),
        "line": 9,
    }


@pytest.mark.parametrize(
    ("env", "code"), [(None, 1), ("prod", 1), ("staging", 0), ("dev", 0)], ids=str
)
def test_profile_comes_from_env(
    capsys: pytest.CaptureFixture[str], env: str | None, code: int
) -> None:
    path = str(CASES / "mtls-strict" / "permissive-fail.yaml")
    args = ["--env", env] if env else []
    assert run(capsys, "validate", path, *args, "--environments", str(SAMPLE_ENVIRONMENTS))[0] == (
        code
    )


def test_profile_name_without_environment_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = str(CASES / "mtls-strict" / "permissive-fail.yaml")
    assert run(capsys, "validate", path, "--env", "dev", "--environments", str(tmp_path))[0] == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("kind: [unclosed\n", "malformed YAML"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("- just\n- a list\n", "no Kubernetes objects found"),
        (b"\xff\xfe", "cannot read file"),
    ],
    ids=["malformed", "duplicate-key", "no-object", "not-utf8"],
)
def test_unusable_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | bytes, reason: str
) -> None:
    file = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content)
    code, out, err = run(capsys, "validate", str(file))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and str(file) in err and reason in err
    assert "Traceback" not in err


def test_missing_path_and_unknown_env_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "validate", str(tmp_path / "nope.yaml"))[0] == 2
    code, _, err = run(capsys, "validate", "--env", "qa", *DIST)
    assert code == 2 and "no such environment" in err


def test_folders_lists_and_multi_document_files(tmp_path: Path) -> None:
    shutil.copy(CASES / "no-secrets" / "secret-fail.yaml", tmp_path / "list.yaml")
    shutil.copy(CASES / "subset-exists" / "unknown-subset-fail.yaml", tmp_path / "two.yml")
    (tmp_path / "notes.txt").write_text("not a manifest")
    docs = repository.load([tmp_path]).docs
    assert [(d.kind, d.base) for d in docs] == [
        ("Secret", "/items/0"),
        ("DestinationRule", ""),
        ("VirtualService", ""),
    ]
    assert docs[0].line_of("/kind") == 6
    assert docs[2].line_of("/spec/http/0/route/1/destination/subset") == 17


def test_sarif_has_one_descriptor_per_rule_and_located_results(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(CASES / "route-weights" / "sum-fail.yaml")
    code, out, _ = run(capsys, "validate", path, "--format", "sarif", "--no-istioctl")
    body = json.loads(out)
    assert code == 1 and body["version"] == "2.1.0"
    [sarif_run] = body["runs"]
    ids = [r["id"] for r in sarif_run["tool"]["driver"]["rules"]]
    assert ids == [r.id for r in RULES]
    result = next(r for r in sarif_run["results"] if r["ruleId"] == "route-weights")
    assert result["level"] == "error"
    assert ids[result["ruleIndex"]] == "route-weights"
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": path}, "region": {"startLine": 9}}


def test_junit_has_a_testcase_per_object_and_failures_for_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(CASES / "subset-exists" / "unknown-subset-fail.yaml")
    code, out, _ = run(capsys, "validate", path, "--format", "junit")
    suites = ET.fromstring(out)
    cases = suites.findall("./testsuite/testcase")
    assert code == 1
    assert [c.get("name") for c in cases] == [
        "DestinationRule/shop/reviews",
        "VirtualService/shop/reviews",
    ]
    failure = cases[1].find("failure")
    assert failure is not None and "subset-exists" in (failure.text or "")
    assert suites.get("failures") == "1"


def test_text_format_counts_suppressions(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(CASES / "suppression-invalid" / "with-reason-pass.yaml")
    code, out, _ = run(capsys, "validate", path)
    assert code == 0
    assert out.splitlines()[-1] == "1 objects: 0 errors, 0 warnings, 0 info, 0 suppressed"


def test_synth_refuses_to_write_when_a_rule_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A prod environment may raise tracing sampling in its policy (the config allows it);
    the prod rules do not, so nothing is written and every error is listed. (Policy the
    profile enforces, such as STRICT mTLS, is refused earlier, when the file is loaded:
    tests/unit/test_profile_switches.py.)"""
    prod = sample("prod")
    prod["policy"] = {"tracingSampling": 20}
    envs = write_envs(tmp_path / "envs", prod=prod)
    dist = tmp_path / "dist"
    code, out, err = run(capsys, "synth", "--environments", str(envs), "--dist", str(dist))
    assert code == 2
    assert not dist.exists()
    lines = err.splitlines()
    assert all(line.startswith("meshops: error: ") for line in lines)
    assert {line.rsplit("[", 1)[1] for line in lines} == {"tracing-sampling]"}
    assert len(lines) == 2  # one rule x two clusters
    assert "Traceback" not in err and out == ""


def test_a_rule_error_leaves_an_existing_dist_as_it_was(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Validation runs in a worker while the new tree is staged: on errors the staged tree
    is dropped, never swapped in."""
    envs = write_envs(tmp_path / "envs", prod=sample("prod"))
    dist = tmp_path / "dist"
    synth = ("synth", "--environments", str(envs), "--dist", str(dist))
    assert run(capsys, *synth)[0] == 0
    before = read_tree(dist)
    prod = sample("prod")
    prod["policy"] = {"tracingSampling": 20}
    write_envs(envs, prod=prod)
    code, _, err = run(capsys, *synth)
    assert code == 2 and "[tracing-sampling]" in err
    assert read_tree(dist) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist", "envs"]  # no staging left


def test_a_failing_validation_worker_fails_the_synth(
    rendered: list[Manifest], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: object) -> None:
        raise ValueError("rule crashed")

    monkeypatch.setattr(targets, "run", broken)  # the forked worker inherits it
    envs = environment.load_all(SAMPLE_ENVIRONMENTS)
    with checks.in_background(envs, REPO / "dist") as validation:
        validation.add(rendered)
        verdict = validation.verdict()
        with pytest.raises(ValueError, match="rule crashed"):
            verdict()


def _broken(rendered: list[Manifest]) -> list[Manifest]:
    """The sample's objects with a schema error (a typo) in the first cluster's first
    Deployment, and prod-west's Telemetry sampling 20%: an error under prod's profile and,
    as prod-east still samples 1%, a difference between the clusters of one environment."""
    broken = [Manifest(m.path, m.chart, copy.deepcopy(m.obj)) for m in rendered]
    first = next(m for m in broken if m.obj["kind"] == "Deployment")
    first.obj["spec"]["replicaz"] = 2
    telemetry = next(
        m for m in broken if m.path.startswith("prod/prod-west/") and m.obj["kind"] == "Telemetry"
    )
    telemetry.obj["spec"]["tracing"][0]["randomSamplingPercentage"] = 20.0
    return broken


def test_objects_handed_over_cluster_by_cluster_get_the_verdict_of_all_at_once(
    rendered: list[Manifest], speed_mode: str
) -> None:
    """synth hands validation each cluster's objects as they are rendered: the verdict is
    the one of every object checked together (rules that relate clusters included), and
    errors of every batch are in it."""
    envs = environment.load_all(SAMPLE_ENVIRONMENTS)
    broken = _broken(rendered)
    with pytest.raises(engine.ValidationFailed) as together:
        checks.validated(broken, envs, REPO / "dist")
    clusters = [list(g) for _, g in itertools.groupby(broken, lambda m: m.path.split("/")[:2])]
    assert len(clusters) > 5  # the sample's five clusters, then the bootstrap
    with checks.in_background(envs, REPO / "dist") as validation:
        for batch in clusters:
            validation.add(batch)
        verdict = validation.verdict()
        with pytest.raises(engine.ValidationFailed) as streamed:
            verdict()
    assert streamed.value.report.findings == together.value.report.findings
    errors = {f.rule for f in streamed.value.report.errors}
    assert errors == {"schema", "tracing-sampling", "policy-identical"}


def test_a_synth_that_stops_before_rendering_stops_its_worker() -> None:
    envs = environment.load_all(SAMPLE_ENVIRONMENTS)
    with pytest.raises(KeyError), checks.in_background(envs, REPO / "dist"):
        assert len(multiprocessing.active_children()) == 1
        raise KeyError("a chart failed")
    assert multiprocessing.active_children() == []


def test_validation_failed_lists_every_error() -> None:
    docs = documents.read(CASES / "peer-authentication-unique" / "two-mesh-wide-fail.yaml")
    report = engine.validate(docs, "prod")
    error = engine.ValidationFailed(report)
    assert str(error).count("\nmeshops: error: ") == len(report.errors) - 1
    assert all(f.severity is Severity.ERROR for f in report.errors)


def test_audit_reports_controls_with_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "--env", "prod", "--format", "json", *DIST)
    body = json.loads(out)
    assert code == 0 and body["profile"] == "prod"
    controls = {c["id"]: c for c in body["controls"]}
    assert list(controls) == [
        "mtls",
        "authorization",
        "egress",
        "resilience",
        "scaling",
        "monitoring",
        "workloads",
    ]
    assert controls["mtls"]["status"] == "pass"
    strict = next(c for c in controls["mtls"]["checks"] if c["rule"] == "mtls-strict")
    assert strict["path"] == "/spec/mtls/mode" and strict["file"].endswith(
        "PeerAuthentication.security.istio.io.istio-system.default.yaml"
    )
    scaled = next(c for c in controls["scaling"]["checks"] if c["rule"] == "autoscaling")
    assert scaled["kind"] == "Deployment" and "HorizontalPodAutoscaler" in scaled["file"]
    assert {c["status"] for c in body["controls"]} == {"pass"}


def test_audit_markdown_shows_suppressions_with_reasons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Staging samples 10% of traces: not a staging error, but a failed audit check,
    which an annotated reason turns into a listed suppression."""
    dist = tmp_path / "dist"
    shutil.copytree(REPO / "dist" / "staging", dist / "staging")
    # The control plane defines the Telemetry's providers (telemetry-provider-defined).
    shutil.copytree(REPO / "dist" / "_bootstrap", dist / "_bootstrap")
    telemetry = next((dist / "staging").rglob("Telemetry.*.mesh-default.yaml"))
    reason = "staging samples 10% to debug releases"
    text = telemetry.read_text().replace(
        "  annotations:\n",
        f'  annotations:\n    meshops.dev/suppress: "tracing-sampling: {reason}"\n',
        1,
    )
    telemetry.write_text(text)
    args = ["--dist", str(dist), "--environments", str(SAMPLE_ENVIRONMENTS)]
    code, out, _ = run(capsys, "audit", "--env", "staging", *args)
    assert code == 0
    assert "| Monitoring and alerts | pass |" in out
    row = "| suppressed | Telemetry istio-system/mesh-default (staging-1) | tracing-sampling |"
    assert row in out
    assert (
        f"| Telemetry istio-system/mesh-default (staging-1) | tracing-sampling | {reason} |" in out
    )
