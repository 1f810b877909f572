"""`meshops drift --pushgateway`: metrics pushed to a real Prometheus Pushgateway (Debian's
`prometheus-pushgateway`, run on 127.0.0.1), the webhook URL read from an environment variable,
and delivery that never changes the exit code."""

from __future__ import annotations

import dataclasses
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py import cli
from charts_py.drift import pushgateway
from tests import tools
from tests.unit.test_drift_delivery import (
    Hook,
    clean,
    drift_cli,
    drifted,
    free_port,
    hook,
    no_proxy,
    parse_metrics,
    repo,
)

__all__ = ["hook", "no_proxy", "repo"]  # fixtures used by name below
GROUP = (("cluster", "prod-east"), ("env", "prod"), ("instance", ""), ("job", "meshops-drift"))


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    """A Pushgateway on a free 127.0.0.1 port, stopped by its pid afterwards."""
    binary = tools.require("prometheus-pushgateway")
    port = free_port()
    log = (tmp_path / "pushgateway.log").open("w")
    process = subprocess.Popen(
        # Debian's build persists to /var/lib/prometheus by default: keep each test's own state.
        [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="],
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"pushgateway did not start: {(tmp_path / 'pushgateway.log').read_text()}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def scraped(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What Prometheus would scrape from the gateway: meshops_drift_* samples only."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    lines = [
        line
        for line in text.splitlines()
        if line.removeprefix("# HELP ").removeprefix("# TYPE ").startswith("meshops_drift_")
    ]
    return parse_metrics("\n".join(lines) + "\n")


def test_a_push_lands_in_the_group_job_env_cluster(gateway: str, no_proxy: None) -> None:
    sent = pushgateway.push(drifted(), gateway, 1.25)
    assert sent.ok and sent.attempts == 1
    samples = scraped(gateway)
    labels = (*GROUP[:3], ("job", "meshops-drift"), ("severity", "critical"))
    assert samples["meshops_drift_objects", (*labels, ("status", "modified"))] == 1
    assert samples["meshops_drift_complete", GROUP] == 1
    assert samples["meshops_drift_duration_seconds", GROUP] == 1.25
    assert samples["meshops_drift_last_run_timestamp_seconds", GROUP] == 1748743426


def test_the_next_run_replaces_the_group(gateway: str, no_proxy: None) -> None:
    """PUT semantics: a clean run leaves no stale critical count behind."""
    assert pushgateway.push(drifted(), gateway).ok
    assert pushgateway.push(clean(), gateway).ok
    samples = scraped(gateway)
    critical = (*GROUP[:3], ("job", "meshops-drift"), ("severity", "critical"))
    assert samples["meshops_drift_objects", (*critical, ("status", "modified"))] == 0
    assert [k for k in samples if k[0] == "meshops_drift_complete"] == [
        ("meshops_drift_complete", GROUP)
    ]


def test_odd_label_values_use_the_base64_form() -> None:
    report = drifted()
    odd = dataclasses.replace(report, env="a/b", cluster="", results=())
    url = pushgateway.group_url("http://gw:9091/", odd)
    assert url == "http://gw:9091/metrics/job/meshops-drift/env@base64/YS9i/cluster@base64/="


def test_an_unreachable_gateway_is_bounded_and_reported() -> None:
    pauses: list[float] = []
    sent = pushgateway.push(drifted(), f"http://127.0.0.1:{free_port()}", sleep=pauses.append)
    assert not sent.ok and sent.attempts == 3 and pauses == [0.5, 1.0]


def test_cli_pushes_and_keeps_the_exit_code(
    repo: Path, tmp_path: Path, gateway: str, capsys: pytest.CaptureFixture[str], no_proxy: None
) -> None:
    assert drift_cli(repo, tmp_path, "loose", "--pushgateway", gateway) == 1
    assert f"pushgateway {gateway}: delivered (HTTP 200, 1 attempt)" in capsys.readouterr().err
    labels = (("cluster", "dev-1"), ("env", "dev"), ("instance", ""), ("job", "meshops-drift"))
    modified = (*labels, ("severity", "medium"), ("status", "modified"))
    assert scraped(gateway)["meshops_drift_objects", modified] == 1
    down = f"http://127.0.0.1:{free_port()}"
    assert drift_cli(repo, tmp_path, "strict", "--pushgateway", down) == 0
    assert f"meshops: warning: pushgateway {down}: " in capsys.readouterr().err


def test_cli_reads_the_webhook_url_from_the_environment(
    repo: Path,
    tmp_path: Path,
    hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MESHOPS_NOTIFY_URL", hook.url + "/services/T0/token")
    code = drift_cli(repo, tmp_path, "strict", "--notify-from-env", "MESHOPS_NOTIFY_URL")
    assert code == 0 and len(hook.requests) == 1
    err = capsys.readouterr().err
    assert "notify http://127.0.0.1:" in err and "token" not in err


def test_cli_rejects_an_unset_notify_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MESHOPS_NOTIFY_URL", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["drift", "--env", "dev", "--notify-from-env", "MESHOPS_NOTIFY_URL"])
    assert exit_.value.code == 2
    assert "MESHOPS_NOTIFY_URL is not set or empty" in capsys.readouterr().err
