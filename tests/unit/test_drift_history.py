"""Findings across nights through `meshops drift --snapshot` on a real git repository (a
`--live-dir` dump stands for the cluster; tests/integration/test_drift_nights.py plays the
same on the real API server): identity, states, the index each snapshot keeps, waivers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli, gitrepo
from charts_py.drift import run
from charts_py.drift.model import ObjectRef, finding_id
from charts_py.report import history

OBJECT = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: shop
  labels: {{app.kubernetes.io/managed-by: meshops, meshops.dev/environment: dev,
           meshops.dev/cluster: dev-1}}
data: {{mode: {mode}}}
"""
NIGHT = "2026-12-0{day}T03:17:00Z"


def git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dist/dev/dev-1 with two ConfigMaps (mode: strict)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    path = tmp_path / "repo"
    folder = path / "dist/dev/dev-1/app"
    folder.mkdir(parents=True)
    for name in ("a", "b"):
        text = OBJECT.format(name=name, mode="strict")
        (folder / f"ConfigMap.core.shop.{name}.yaml").write_text(text)
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "dist")
    return path


def waive(repo: Path, name: str, expires: str) -> None:
    """Commit a waiver of ConfigMap `name`'s /data to environments/dev.yaml."""
    waiver = (
        f"    - {{kind: ConfigMap, namespace: shop, name: {name}, path: /data,"
        f" reason: migration, owner: team-a, expires: {expires}}}\n"
    )
    (repo / "environments").mkdir(exist_ok=True)
    (repo / "environments/dev.yaml").write_text("drift:\n  waivers:\n" + waiver)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "waiver")


def night(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, day: int, **modes: str
) -> dict[str, Any]:
    """One nightly run at 03:17 on day `day` with the live modes given (strict otherwise):
    the JSON report."""
    live = tmp_path / f"live-{day}"
    live.mkdir()
    for name in ("a", "b"):
        mode = modes.get(name, "strict")
        (live / f"{name}.yaml").write_text(OBJECT.format(name=name, mode=mode))
    monkeypatch.setattr(run, "now", lambda: NIGHT.format(day=day))
    out = tmp_path / f"report-{day}.json"
    argv = ["drift", "--env", "dev", "--repo", str(repo), "--live-dir", str(live)]
    cli.main([*argv, "--snapshot", "--format", "json", "--output", str(out)])
    return dict(json.loads(out.read_text()))


def finding(report: dict[str, Any], name: str) -> dict[str, Any] | None:
    for resource in report["resources"]:
        if resource["name"] == name and resource["differences"]:
            return dict(resource["differences"][0]["finding"])
    return None


def test_a_finding_is_new_then_persisting_then_resolved_then_regressed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = night(repo, tmp_path, monkeypatch, 1, a="loose")
    assert first["schemaVersion"] == 4
    found = finding(first, "a")
    assert found == {
        "id": found and found["id"],
        "state": "new",
        "firstSeen": "2026-12-01T03:17:00Z",
        "runs": 1,
    }
    second = night(repo, tmp_path, monkeypatch, 2, a="looser")  # another value, same path
    assert finding(second, "a") == {**found, "state": "persisting", "runs": 2}
    assert second["findings"] == {
        "new": 0,
        "persisting": 1,
        "regressed": 0,
        "waived": 0,
        "resolved": 0,
    }
    third = night(repo, tmp_path, monkeypatch, 3)
    assert third["findings"]["resolved"] == 1
    assert third["resolved"] == [
        {
            "id": found["id"],
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "a",
            "path": "/data/mode",
            "firstSeen": "2026-12-01T03:17:00Z",
        }
    ]
    fourth = night(repo, tmp_path, monkeypatch, 4, a="loose", b="loose")
    assert finding(fourth, "a") == {**found, "state": "regressed", "runs": 3}
    assert finding(fourth, "b")["state"] == "new"  # type: ignore[index]


def test_each_snapshot_keeps_the_index_the_next_run_reads(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose")
    night(repo, tmp_path, monkeypatch, 2, b="loose")
    listing = git(repo, "ls-tree", "-r", "--name-only", "meshops/snapshots").split()
    assert "dev/dev-1/20261202T031700Z/findings.json" in listing
    index = history.previous(
        gitrepo.open_repo(repo), ["refs/heads/meshops/snapshots"], "dev", "dev-1"
    )
    assert index is not None and index.started_at == NIGHT.format(day=2)
    assert [(e.name, str(e.state)) for e in index.findings] == [("b", "new")]
    assert [(e.name, e.resolved_at) for e in index.resolved] == [("a", NIGHT.format(day=2))]


def test_a_waiver_holds_until_its_date_then_the_finding_is_back_and_says_so(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose")
    waive(repo, "a", "2026-12-03")
    waived = finding(night(repo, tmp_path, monkeypatch, 2, a="loose"), "a")
    assert waived is not None and waived["state"] == "waived" and waived["runs"] == 2
    assert waived["waiver"] == {"owner": "team-a", "reason": "migration", "expires": "2026-12-03"}
    expired = finding(night(repo, tmp_path, monkeypatch, 3, a="loose"), "a")
    assert expired is not None
    assert (expired["state"], expired["waiverExpired"]) == ("persisting", "2026-12-03")


def test_the_id_depends_on_object_and_path_never_on_values_or_version() -> None:
    v1 = ObjectRef("networking.istio.io/v1", "VirtualService", "shop", "cart")
    beta = ObjectRef("networking.istio.io/v1beta1", "VirtualService", "shop", "cart")
    assert finding_id(v1, "/spec/http/0/timeout") == finding_id(beta, "/spec/http/0/timeout")
    assert finding_id(v1, "/spec/http/0/timeout") != finding_id(v1, "/spec/http/0/retries")
    assert finding_id(v1, "") != finding_id(ObjectRef("v1", "Service", "shop", "cart"), "")
