"""Backup and restore against the real control plane: a scenario's slice is backed up,
damaged (deleted objects, a weakened PeerAuthentication), restored, and judged by drift."""

from __future__ import annotations

import base64
import json

import git
import pytest

from charts_py import cli, contract, gitrepo
from tests.integration.drift_env import ENV, Scenario, diverged

BRANCH = "refs/heads/meshops/snapshots"
DELETED = ("virtualservice/cart", "destinationrule/cart", "service/cart", "deployment/cart-v1")


def backup_args(s: Scenario, *extra: str) -> list[str]:
    return ["backup", "--env", ENV, "--cluster", s.cluster, "--repo", str(s.repo),
            "--kubeconfig", s.kubeconfig, *extra]  # fmt: skip


def restore_args(s: Scenario, source: str, *extra: str) -> list[str]:
    return ["restore", "--env", ENV, "--cluster", s.cluster, "--repo", str(s.repo),
            "--kubeconfig", s.kubeconfig, "--from", source, *extra]  # fmt: skip


def damage(s: Scenario) -> None:
    for target in DELETED:
        s.kubectl("delete", target)
    s.kubectl("patch", "peerauthentication/default", "--type=merge",
              "-p", '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}')  # fmt: skip
    found = diverged(s.drift())
    assert found[("VirtualService", "cart")].status == "missing"
    assert found[("PeerAuthentication", "default")].status == "modified"


def backup_files(s: Scenario) -> dict[str, bytes]:
    """Every file of every backup of the scenario's cluster, from the snapshot branch."""
    repo = gitrepo.open_repo(s.repo)
    return gitrepo.read_tree(repo, BRANCH, f"{ENV}/{s.cluster}")


def test_round_trip_restores_deleted_and_damaged_objects(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(backup_args(scenario)) == 0
    capsys.readouterr()
    damage(scenario)
    assert cli.main(restore_args(scenario, "latest")) == 0
    out = capsys.readouterr().out
    for created in ("VirtualService", "DestinationRule", "Service", "Deployment"):
        assert f"{created} {scenario.namespace}/cart" in out
    assert f"PeerAuthentication {scenario.namespace}/default configured" in out
    assert "In sync" in out
    assert diverged(scenario.drift()) == {}
    # The same backup named by its folder, then by a commit of the branch: nothing left to do.
    [folder] = {name.split("/")[0] for name in backup_files(scenario)}
    by_path = f"{ENV}/{scenario.cluster}/{folder}"
    assert cli.main(restore_args(scenario, by_path)) == 0
    sha = git.Repo(scenario.repo).rev_parse(BRANCH).hexsha
    assert cli.main(restore_args(scenario, sha)) == 0
    assert " 0 created, 0 configured" in capsys.readouterr().out


def test_restore_from_git_into_a_damaged_cluster(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(scenario)
    assert cli.main(restore_args(scenario, "git")) == 0
    out = capsys.readouterr().out
    assert f"VirtualService {scenario.namespace}/cart created" in out
    assert "In sync" in out
    assert diverged(scenario.drift()) == {}


def test_dry_run_changes_nothing(scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(backup_args(scenario)) == 0
    damage(scenario)
    assert cli.main(restore_args(scenario, "latest", "--dry-run")) == 0
    assert f"VirtualService {scenario.namespace}/cart created (dry run)" in capsys.readouterr().out
    found = diverged(scenario.drift())
    assert found[("VirtualService", "cart")].status == "missing"
    assert found[("Deployment", "cart-v1")].status == "missing"
    assert found[("PeerAuthentication", "default")].status == "modified"


def test_secrets_are_named_never_stored(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "hunter2-do-not-back-up"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "api-key",
            "namespace": scenario.namespace,
            "labels": {
                contract.MANAGED_BY: contract.MANAGED_BY_VALUE,
                contract.ENVIRONMENT: ENV,
                contract.CLUSTER: scenario.cluster,
            },
        },
        "stringData": {"key": value},
    }
    scenario.kubectl("create", "-f", "-", stdin=json.dumps(secret))
    assert cli.main(backup_args(scenario)) == 0
    files = backup_files(scenario)
    [manifest] = [json.loads(data) for name, data in files.items() if name.endswith("backup.json")]
    named = {(s["namespace"], s["name"]) for s in manifest["secrets"]}
    assert (scenario.namespace, "api-key") in named
    assert (scenario.namespace, "meshops-drift-git") in named  # referenced by the CronJob
    assert not any("Secret" in entry["kind"] for entry in manifest["objects"])
    encoded = base64.b64encode(value.encode())
    for data in files.values():
        assert value.encode() not in data and encoded not in data and b"<masked:" not in data
    scenario.kubectl("delete", "secret/api-key")
    capsys.readouterr()
    assert cli.main(restore_args(scenario, "latest")) == 0
    out = capsys.readouterr().out
    assert f"not restored, provide out of band: Secret {scenario.namespace}/api-key" in out
    assert "secret/api-key" not in scenario.kubectl("get", "secrets", "-o", "name")


def test_no_backup_unknown_ref_and_corrupt_backup_exit_2(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(restore_args(scenario, "latest")) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "no backup" in lines[0], lines
    repo = gitrepo.open_repo(scenario.repo)
    folder = f"{ENV}/{scenario.cluster}/backup-20000101T000000Z"
    gitrepo.commit_snapshot(repo, "meshops/snapshots", folder, {"backup.json": b"{"}, "bad")
    for source, expected in (
        ("latest", "backup.json: not JSON"),
        ("no-such-ref", "unknown revision 'no-such-ref'"),
        (f"{ENV}/{scenario.cluster}/backup-19990101T000000Z", "no such backup"),
        (f"{ENV}/other/backup-20000101T000000Z", "not a backup of"),
    ):
        assert cli.main(restore_args(scenario, source)) == 2, source
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], lines


def test_backup_leaves_working_tree_index_and_branch_alone(scenario: Scenario) -> None:
    repo = git.Repo(scenario.repo)
    (scenario.repo / "dirty.txt").write_text("uncommitted\n")
    before = (repo.head.commit.hexsha, repo.active_branch.name, repo.git.status("--porcelain"))
    index = (scenario.repo / ".git" / "index").read_bytes()
    assert cli.main(backup_args(scenario)) == 0
    after = (repo.head.commit.hexsha, repo.active_branch.name, repo.git.status("--porcelain"))
    assert after == before
    assert (scenario.repo / ".git" / "index").read_bytes() == index
    names = [name.split("/", 1)[1] for name in backup_files(scenario)]
    assert "backup.json" in names
    assert f"PeerAuthentication.security.istio.io.{scenario.namespace}.default.yaml" in names
