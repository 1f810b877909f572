"""Bad input: one line naming file, field (and line) and reason; exit 2; nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli
from charts_py.config import environment, source
from charts_py.errors import ConfigError
from tests.conftest import sample, write_envs


def run_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(
        ["synth", "--environments", str(tmp_path / "envs"), "--dist", str(tmp_path / "dist"), *args]
    )
    return code, capsys.readouterr().err


def broken(tmp_path: Path, data: dict[str, Any]) -> Path:
    return write_envs(tmp_path / "envs", dev=data)


def test_unknown_key_names_file_field_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("dev")
    data["services"][1]["timeuot"] = "5s"
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "envs/dev.yaml:" in err
    assert "services[1].timeuot: unknown field" in err
    line = int(err.split("dev.yaml:")[1].split(":")[0])
    text = (tmp_path / "envs" / "dev.yaml").read_text().splitlines()
    assert "timeuot" in text[line - 1]
    assert not (tmp_path / "dist").exists()


def test_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    data["services"][0]["port"] = "eighty"
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "services[0].port: Input should be a valid integer" in err


def test_weights_must_sum_to_100(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    reviews = next(s for s in data["services"] if s["name"] == "reviews")
    reviews["versions"][1]["weight"] = 90
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "versions: weights must sum to 100, got 90" in err


def test_negative_weight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    reviews = next(s for s in data["services"] if s["name"] == "reviews")
    reviews["versions"][0]["weight"] = -10
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "versions[0].weight: Input should be greater than or equal to 0" in err


def test_duplicate_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    data["services"].append(dict(data["services"][2]))
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert f"services[{len(data['services']) - 1}].name: duplicate service 'reviews'" in err


def test_unknown_callee(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("dev")
    data["services"][0]["calls"].append("paymnet")
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "services[0].calls[6]: unknown service 'paymnet'" in err


def test_unknown_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken(tmp_path, sample("dev"))
    code, err = run_synth(tmp_path, capsys, "--env", "qa")
    assert code == 2
    assert "qa.yaml: no such environment (known: dev)" in err


def test_malformed_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "dev.yaml").write_text("profile: dev\nservices:\n  - name: [unclosed\n")
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "envs/dev.yaml:" in err and "malformed YAML" in err


def test_duplicate_yaml_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / "dev.yaml").write_text("profile: dev\nnamespace: a\nnamespace: b\n")
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "envs/dev.yaml:3: namespace: duplicate key" in err


def test_invalid_profile_value_shows_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("dev")
    data["profile"] = "production"
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "profile: Input should be 'dev', 'staging', 'prod' or 'none' (got 'production')" in err


def test_fault_injection_forbidden_in_prod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("prod")
    data["services"][1]["fault"] = {"percent": 5, "abort": 503}
    write_envs(tmp_path / "envs", prod=data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "services[1].fault: fault injection is forbidden: the prod profile enforces it" in err
    assert "(rule fault-injection); to waive it, add `waivers: [{rule: fault-injection" in err


def test_retry_budget_exceeds_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("staging")
    data["services"][0]["timeout"] = "5s"
    write_envs(tmp_path / "envs", staging=data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "services[0].timeout: route timeout 5s is shorter than the retry budget 3 x 3s" in err


def test_policy_override_typo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sample("staging")
    data["policy"] = {"tracingSampling": 250}
    write_envs(tmp_path / "envs", staging=data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "policy.tracingSampling: Input should be less than or equal to 100" in err


def test_multi_cluster_requires_outlier_detection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("prod")
    data["policy"] = {"outlierDetection": None}
    write_envs(tmp_path / "envs", prod=data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert "policy.outlierDetection: locality failover across clusters requires" in err


def test_bad_input_leaves_existing_dist_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_envs(tmp_path / "envs", dev=sample("dev"))
    assert run_synth(tmp_path, capsys)[0] == 0
    before = {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()}
    data = sample("dev")
    data["services"][0]["image"] = "frontend"  # no tag
    write_envs(tmp_path / "envs", dev=data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2 and "services[0].image" in err
    after = {p: p.read_bytes() for p in (tmp_path / "dist").rglob("*") if p.is_file()}
    assert after == before


# --- the drift job reads only `drift:` of an environment file ---------------------------------

ENVIRONMENTS = Path(__file__).resolve().parents[2] / "environments"


@pytest.mark.parametrize("name", sorted(p.stem for p in ENVIRONMENTS.glob("*.yaml")))
def test_drift_rules_are_what_the_whole_file_says(name: str) -> None:
    text = (ENVIRONMENTS / f"{name}.yaml").read_text()
    whole = environment.load_text(text, name, f"{name}.yaml").spec.drift
    assert environment.drift_rules(text, f"{name}.yaml") == whole


def test_drift_rules_errors_name_file_field_and_line() -> None:
    text = "name: x\ndrift:\n  ignore:\n  - kind: Deployment\n    pth: /spec/replicas\n"
    with pytest.raises(ConfigError) as e:
        environment.drift_rules(text, "environments/x.yaml@abc")
    assert str(e.value) == "environments/x.yaml@abc:5: drift.ignore[0].pth: unknown field"
    with pytest.raises(ConfigError, match=r"x.yaml@abc:2: malformed YAML"):
        environment.drift_rules("a: 1\n- b\n", "x.yaml@abc")


def test_drift_rules_ignore_what_drift_does_not_read() -> None:
    """An error elsewhere in the file (synth's to report) does not stop the drift job."""
    text = "services: [{name: a, timeuot: 5s}]\ndrift: {controllers: [my-operator]}\n"
    assert environment.drift_rules(text, "x.yaml").controllers == ["my-operator"]


SCALARS = """
name: "80"
port: 80
weight: 1.5
enabled: yes
none: ~
when: 2026-12-07
hosts: [a.example.com, '*', 0x1F]
80: eighty
anchor: &same {retries: 3}
alias: *same
"""


def test_a_file_reads_as_pyyaml_reads_it_with_each_line() -> None:
    """Strings are taken as written, every other scalar as PyYAML's safe loader builds it."""
    parsed = source.parse(SCALARS, "f.yaml")
    assert parsed.data == yaml.safe_load(SCALARS)
    assert parsed.line_of(("hosts", 2)) == 8
    assert parsed.line_of(("alias", "retries")) == 10  # written at the anchor
