"""Findings across nights through `meshops drift --snapshot` on a real git repository (a
`--live-dir` dump stands for the cluster; tests/integration/test_drift_nights.py plays the
same on the real API server): identity, states, the index each snapshot keeps, waivers."""
# ruff: noqa: F811 (pytest fixtures imported from test_drift_delivery and taken as arguments)

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli, gitrepo
from charts_py.drift import run
from charts_py.drift.model import ObjectRef, finding_id
from charts_py.errors import ConfigError
from charts_py.propose import proposal
from charts_py.report import fleet, history
from tests.unit.test_drift_delivery import Hook, hook, no_proxy  # noqa: F401 (fixtures)

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
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    day: int,
    *extra: str,
    **modes: str,
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
    cli.main([*argv, "--snapshot", "--format", "json", "--output", str(out), *extra])
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


def test_the_webhook_says_each_new_problem_once(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Hook
) -> None:
    notify = ("--notify", hook.url)
    night(repo, tmp_path, monkeypatch, 1, *notify, a="loose")
    night(repo, tmp_path, monkeypatch, 2, *notify, a="loose", b="loose")
    night(repo, tmp_path, monkeypatch, 3, *notify, a="loose", b="loose")  # nothing new
    first, second = (json.loads(body) for _, _, body in hook.requests)
    assert len(hook.requests) == 2
    assert [(a["name"], a["state"]) for a in first["alerts"]] == [("a", "new")]
    assert second["alerts"] == [
        {
            "id": finding_id(ObjectRef("v1", "ConfigMap", "shop", "b"), "/data/mode"),
            "state": "new",
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "b",
            "path": "/data/mode",
            "severity": "medium",
        }
    ]
    assert second["incomplete"] is False and "reason" not in second


def test_an_unreachable_cluster_still_alerts_and_resolves_nothing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Hook
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE)
    monkeypatch.setattr(run, "now", lambda: NIGHT.format(day=2))
    out = tmp_path / "report-2.json"
    argv = ["drift", "--env", "dev", "--repo", str(repo), "--kubeconfig", str(kubeconfig)]
    argv += ["--snapshot", "--format", "json", "--output", str(out), "--notify", hook.url]
    assert cli.main(argv) == 2
    [(_, _, body)] = hook.requests
    sent = json.loads(body)
    assert sent["incomplete"] is True and sent["alerts"] == []
    assert sent["reason"].startswith("could not read the cluster: ")
    report = json.loads(out.read_text())
    assert report["complete"] is False and report["findings"]["resolved"] == 0
    third = night(repo, tmp_path, monkeypatch, 3, a="loose")
    assert finding(third, "a") == {**finding(third, "a"), "state": "persisting"}  # type: ignore[dict-item]


def test_reports_say_since_when_and_how_to_address_each_finding(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose")
    night(repo, tmp_path, monkeypatch, 2, a="loose")
    fid = finding_id(ObjectRef("v1", "ConfigMap", "shop", "a"), "/data/mode")
    command = f"meshops propose --env dev --cluster dev-1 --from-report report.json --finding {fid}"
    for kind in ("markdown", "html"):
        page = tmp_path / f"page.{kind}"
        argv = [
            "drift",
            "--env",
            "dev",
            "--repo",
            str(repo),
            "--live-dir",
            str(tmp_path / "live-2"),
        ]
        cli.main([*argv, "--format", kind, "--output", str(page)])
        text = page.read_text()
        assert "persisting since 2026-12-01T03:17:00Z (3 runs)" in text, kind
        assert f"{command} --adopt" in text and f"{command} --revert" in text, kind


def test_propose_takes_one_finding_of_a_report(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose", b="loose")
    from charts_py.propose import report as saved

    whole = saved.read(tmp_path / "report-1.json")
    fid = finding_id(ObjectRef("v1", "ConfigMap", "shop", "b"), "/data/mode")
    narrowed = proposal.only(whole, (fid,), "report-1.json")
    assert [(r.ref.name, [d.path for d in r.differences]) for r in narrowed.results] == [
        ("b", ["/data/mode"])
    ]
    with pytest.raises(ConfigError, match="--finding: no finding 0000000000000000"):
        proposal.only(whole, ("0000000000000000",), "report-1.json")


UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def test_the_fleet_page_shows_each_cluster_and_flags_a_stale_one(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    night(repo, tmp_path, monkeypatch, 1, a="loose")
    night(repo, tmp_path, monkeypatch, 2, a="loose", b="loose")
    last = datetime(2026, 12, 2, 3, 17, tzinfo=UTC)
    opened = gitrepo.open_repo(repo)
    fresh = fleet.read(opened, "meshops/snapshots", "HEAD", last + timedelta(hours=20))
    late = fleet.read(opened, "meshops/snapshots", "HEAD", last + timedelta(hours=25, minutes=1))
    [row] = fresh
    assert (row.name, row.stale, late[0].stale) == ("dev/dev-1", False, True)
    assert row.by_state() == {"new": 1, "persisting": 1, "regressed": 0, "waived": 0}
    assert row.by_severity()["medium"] == 2
    oldest = row.oldest()
    assert oldest is not None and (oldest.name, oldest.first_seen) == ("a", NIGHT.format(day=1))
    page = fleet.page(late, last + timedelta(hours=26))
    assert '<span class="flag stale">stale</span>' in page
    assert "ConfigMap shop/a /data/mode since 2026-12-01T03:17:00Z" in page
    out = tmp_path / "fleet.md"
    argv = ["report", "--fleet", "--repo", str(repo), "--format", "markdown"]
    assert cli.main([*argv, "--output", str(out)]) == 0
    assert "| dev/dev-1 | **stale** | 2026-12-02T03:17:00Z | 1 | 1 | 0 | 0 |" in out.read_text()


def test_the_weekly_digest_lists_what_persists_on_its_day_only(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hook: Hook
) -> None:
    notify = ("--notify", hook.url, "--digest-weekday", "monday")
    night(repo, tmp_path, monkeypatch, 1, *notify, a="loose")  # a Tuesday: new, sent
    night(repo, tmp_path, monkeypatch, 2, *notify, a="loose")  # nothing new: not sent
    night(repo, tmp_path, monkeypatch, 7, *notify, a="loose")  # Monday 2026-12-07: digest
    assert len(hook.requests) == 2
    first, monday = (json.loads(body) for _, _, body in hook.requests)
    assert "digest" not in first
    assert monday["alerts"] == [] and [(d["name"], d["state"]) for d in monday["digest"]] == [
        ("a", "persisting")
    ]
    assert monday["digest"][0]["firstSeen"] == NIGHT.format(day=1)


def test_an_unreadable_index_costs_the_history_not_the_check(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = gitrepo.open_repo(repo)
    where = "dev/dev-1/20261130T031700Z"
    gitrepo.commit_snapshot(opened, "meshops/snapshots", where, {"findings.json": b"{"}, "bad")
    report = night(repo, tmp_path, monkeypatch, 1, a="loose")
    assert finding(report, "a")["state"] == "new"  # type: ignore[index]
    assert any(n.startswith("history unreadable (dev/dev-1/") for n in report["notes"])
