"""The nightly CronJob delivers where the environment says: the Pushgateway in its args, the
webhook URL only through a secretKeyRef env var (never in dist, never in argv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from charts_py.constructs.drift_job import NOTIFY_ENV
from charts_py.render.manifest import Manifest
from tests.conftest import find, sample
from tests.unit.test_config_errors import broken, run_synth

EAST, DEV = "prod/prod-east", "dev/dev-1"


def container(rendered: list[Manifest], prefix: str) -> dict[str, Any]:
    job = find(rendered, prefix, "CronJob", "meshops-drift")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [drift] = pod["containers"]
    return dict(drift)


def test_prod_job_pushes_metrics_and_notifies_from_a_secret(rendered: list[Manifest]) -> None:
    drift = container(rendered, EAST)
    script = drift["command"][2]
    assert "--pushgateway http://pushgateway.monitoring.svc:9091" in script
    assert f"--notify-from-env {NOTIFY_ENV} --notify-format slack --digest-weekday monday" in script
    [from_secret] = [e for e in drift["env"] if e["name"] == NOTIFY_ENV]
    ref = {"secretKeyRef": {"name": "meshops-drift-notify", "key": "url"}}
    assert from_secret == {"name": NOTIFY_ENV, "valueFrom": ref}
    # The exit code of the job stays the drift verdict's: delivery cannot change it.
    assert script.endswith('[ "$code" -le 1 ]')


def test_without_delivery_settings_the_job_delivers_nowhere(rendered: list[Manifest]) -> None:
    drift = container(rendered, DEV)
    assert "--pushgateway" not in drift["command"][2]
    assert "--notify" not in drift["command"][2]
    assert [e["name"] for e in drift["env"]] == ["GIT_REVISION"]


def test_a_pushgateway_url_is_quoted_for_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("dev")
    data["drift"] = {"pushgateway": "http://gw:9091/a;b"}
    broken(tmp_path, data)
    code, _ = run_synth(tmp_path, capsys)
    assert code == 0
    [job] = (tmp_path / "dist").glob("dev/dev-1/drift-job/CronJob.*.yaml")
    assert "--pushgateway 'http://gw:9091/a;b'" in job.read_text()


@pytest.mark.parametrize(
    ("drift", "field"),
    [
        ({"notify": {"url": "https://hooks.slack.com/services/T/B/x"}}, "use secretRef"),
        ({"notify": {"format": "json"}}, "drift.notify.secretRef"),
        ({"pushgateway": "http://user:pw@gw:9091"}, "drift.pushgateway"),
        ({"pushgateway": "gw:9091"}, "drift.pushgateway"),
    ],
)
def test_webhook_urls_and_credentials_are_never_inlined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], drift: dict[str, Any], field: str
) -> None:
    data = sample("dev")
    data["drift"] = drift
    broken(tmp_path, data)
    code, err = run_synth(tmp_path, capsys)
    assert code == 2 and err.count("\n") == 1 and field in err, err
    assert "pw" not in err.replace("pushgateway", "") and "hooks.slack" not in err
    assert not (tmp_path / "dist").exists()


def test_prod_job_proposes_an_adoption_branch_with_more_memory(rendered: list[Manifest]) -> None:
    drift = container(rendered, EAST)
    assert "--snapshot --push origin" in drift["command"][2]
    assert "--propose-branch meshops/adopt;" in drift["command"][2]
    assert drift["resources"]["limits"] == {"memory": "1Gi"}


def test_without_propose_the_job_proposes_nothing(rendered: list[Manifest]) -> None:
    drift = container(rendered, DEV)
    assert "--propose-branch" not in drift["command"][2]
    assert drift["resources"]["limits"] == {"memory": "512Mi"}
