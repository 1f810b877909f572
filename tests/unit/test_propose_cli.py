"""`meshops propose` end to end without a cluster: a real git repository holding this
checkout's environments/ and dist/, drift read from a `kubectl get -o yaml`-style dump with
hand edits, and real synth. The control-plane round trips are in
tests/integration/test_propose.py."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, yamlio
from charts_py.render import synth

REPO = Path(__file__).resolve().parents[2]
ENV, CLUSTER = "staging", "staging-1"
CATALOG_TIMEOUT = ("VirtualService", "catalog", ("spec", "http", 0, "timeout"), "7s")
EDITS = [
    CATALOG_TIMEOUT,
    *(  # the header-gated experiment's route and the default one: the file has one weight
        ("VirtualService", "reviews", ("spec", "http", http, "route", i, "weight"), weight)
        for http in (0, 1)
        for i, weight in ((0, 80), (1, 20))
    ),
    ("HorizontalPodAutoscaler", "catalog-v1", ("spec", "minReplicas"), 3),
    ("Telemetry", "mesh-default", ("spec", "tracing", 0, "randomSamplingPercentage"), 20),
]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose HEAD holds this checkout's environments/ and dist/."""
    root = tmp_path / "repo"
    root.mkdir()
    for folder in ("environments", "dist"):
        shutil.copytree(REPO / folder, root / folder)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    return root


def _dump(repo: Path, target: Path, edits: list[Any], folder: str = f"{ENV}/{CLUSTER}") -> Path:
    """The cluster's objects as git has them (`dist/<folder>`), with `edits` made by hand;
    an edit names its object by kind and name, or by kind and `namespace/name`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    objects = []
    for path in sorted((repo / "dist" / folder).glob("*/*.yaml")):
        obj = yamlio.load(path.read_bytes())
        meta = obj["metadata"]
        for kind, name, where, value in edits:
            if obj["kind"] == kind and name in (
                meta["name"],
                f"{meta.get('namespace')}/{meta['name']}",
            ):
                node = obj
                for key in where[:-1]:
                    node = node[key]
                node[where[-1]] = value
        objects.append(obj)
    target.write_text(yaml.safe_dump_all(objects))
    return target.parent


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _report(capsys: pytest.CaptureFixture[str], repo: Path, live: Path, out: Path) -> Path:
    args = ["--env", ENV, "--cluster", CLUSTER, "--repo", str(repo), "--live-dir", str(live)]
    code, _, _ = _run(capsys, "drift", *args, "--format", "json", "--output", str(out))
    assert code == 1
    return out


def _state(repo: Path) -> str:
    """Everything a failed run must leave as it was: files, branches, HEAD."""
    digest = hashlib.sha256()
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest() + _git(repo, "for-each-ref") + _git(repo, "rev-parse", "HEAD")


def test_adopt_writes_the_file_and_dist_and_drift_is_then_clean(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", EDITS)
    before = (repo / "environments" / "staging.yaml").read_text()
    code, out, _ = _run(capsys, "propose", "--env", ENV, "--cluster", CLUSTER, "--repo", str(repo),
                        "--live-dir", str(live), "--adopt")  # fmt: skip
    assert code == 0, out
    after = (repo / "environments" / "staging.yaml").read_text()
    assert "Cannot adopt" not in out
    for line in ("+    timeout: 7s", "+      - {name: v1, weight: 80}", "+  tracingSampling: 20",
                 "+    autoscaling: {min: 3, max: 6}"):  # fmt: skip
        assert line in out
    assert [line for line in before.splitlines() if "#" in line] == [
        line for line in after.splitlines() if "#" in line
    ]
    assert synth.run(repo / "environments", repo / "dist", check=True).changes.empty
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "adopt")
    code, out, _ = _run(capsys, "drift", "--env", ENV, "--cluster", CLUSTER, "--repo", str(repo),
                        "--live-dir", str(live))  # fmt: skip
    assert code == 0, out


def test_branch_holds_the_patch_and_leaves_the_work_tree_and_head(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", [CATALOG_TIMEOUT])
    report = _report(capsys, repo, live, tmp_path / "report.json")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    _git(repo, "remote", "add", "origin", str(remote))
    head, state = _git(repo, "rev-parse", "HEAD"), _state(repo)
    code, out, _ = _run(capsys, "propose", "--env", ENV, "--cluster", CLUSTER, "--repo", str(repo),
                        "--from-report", str(report), "--adopt", "--branch", "fix/catalog",
                        "--push", "origin", "--format", "json")  # fmt: skip
    assert code == 0
    written = json.loads(out)["written"]
    assert written["branch"] == "fix/catalog"
    assert _git(repo, "rev-parse", "HEAD") == head and _git(repo, "status", "--porcelain") == ""
    assert _state(repo).startswith(state[:64])  # no file of the work tree changed
    assert _git(repo, "rev-parse", "fix/catalog^") == head
    assert _git(remote, "rev-parse", "fix/catalog") == written["commit"]
    changed = _git(repo, "diff", "--name-only", head, "fix/catalog").splitlines()
    assert "environments/staging.yaml" in changed
    assert (
        "dist/staging/staging-1/services/VirtualService.networking.istio.io.shop.catalog.yaml"
        in changed
    )
    assert "timeout: 7s" in _git(repo, "show", "fix/catalog:environments/staging.yaml")
    message = _git(repo, "log", "-1", "--format=%B", "fix/catalog")
    assert "services[1].timeout: 5s -> 7s" in message and head in message


def test_the_nightly_run_links_its_branch_in_the_report(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", [CATALOG_TIMEOUT])
    code, out, _ = _run(capsys, "drift", "--env", ENV, "--cluster", CLUSTER, "--repo", str(repo),
                        "--live-dir", str(live), "--propose-branch", "meshops/adopt",
                        "--format", "json")  # fmt: skip
    assert code == 1  # the verdict stays the drift's
    proposal = json.loads(out)["proposal"]
    assert proposal["branch"].startswith("meshops/adopt/staging/staging-1/")
    assert proposal["adopted"] == 1 and proposal["error"] is None
    assert _git(repo, "rev-parse", proposal["branch"]) == proposal["commit"]
    args = ["--env", ENV, "--cluster", CLUSTER, "--repo", str(repo), "--live-dir", str(live)]
    code, out, _ = _run(
        capsys, "drift", *args, "--propose-branch", "nightly", "--format", "markdown"
    )
    assert f"- Proposal: branch nightly/{ENV}/{CLUSTER}/" in out and "adopts 1 live value" in out


Bad = Callable[[Path, Path, pytest.CaptureFixture[str]], list[str]]


def _other_commit(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    report = _report(capsys, repo, _dump(repo, tmp / "live" / "d.yaml", [CATALOG_TIMEOUT]),
                     tmp / "report.json")  # fmt: skip
    _git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@e",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    return ["--from-report", str(report), "--adopt"]


def _malformed(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    (tmp / "bad.json").write_text('{"schemaVersion": 3, "env": "staging"}')
    return ["--from-report", str(tmp / "bad.json"), "--adopt"]


def _branch_exists(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    report = _report(capsys, repo, _dump(repo, tmp / "live" / "d.yaml", [CATALOG_TIMEOUT]),
                     tmp / "report.json")  # fmt: skip
    _git(repo, "branch", "taken")
    return ["--from-report", str(report), "--adopt", "--branch", "taken"]


def _side_file(content: bytes | None) -> Bad:
    """A commit whose side file is `content` (None: none), and a report of that commit."""

    def make(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
        side = repo / "dist" / ENV / f"{CLUSTER}.provenance.json"
        if content is None:
            side.unlink()
        else:
            side.write_bytes(content)
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "side file")
        live = _dump(repo, tmp / "live" / "d.yaml", [CATALOG_TIMEOUT])
        return ["--from-report", str(_report(capsys, repo, live, tmp / "r.json")), "--adopt"]

    return make


def _adopt(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    return ["--adopt"]


def _both(repo: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    return ["--adopt", "--revert"]


CASES: dict[str, tuple[Bad, list[str], str]] = {
    "report-of-another-commit": (
        _other_commit,
        [],
        "report.json: git.commit: the report judged commit",
    ),
    "malformed-report": (_malformed, [], "bad.json: git: missing or not a dict"),
    "branch-exists": (_branch_exists, [], "--branch: branch 'taken' already exists"),
    "unknown-env": (_adopt, ["--env", "qa"], "environments/qa.yaml: --env: no such environment"),
    "unknown-cluster": (
        _adopt,
        ["--cluster", "mars"],
        "staging.yaml: --cluster: no cluster 'mars'",
    ),
    "adopt-and-revert": (_both, [], "--adopt/--revert: give exactly one"),
    "unreadable-side-file": (
        _side_file(b'{"env": "staging"}'),
        [],
        f"{CLUSTER}.provenance.json: provenance side file",
    ),
    "no-side-file": (_side_file(None), [], "no provenance side file at commit"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    case: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, where, message = CASES[case]
    args = make(repo, tmp_path, capsys)
    target = dict(zip(("--env", "--cluster"), (ENV, CLUSTER), strict=True))
    target |= dict(zip(where[::2], where[1::2], strict=True))
    state = _state(repo)
    code, out, err = _run(capsys, "propose", *[x for kv in target.items() for x in kv],
                          "--repo", str(repo), *args)  # fmt: skip
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("meshops: error: ") and message in err, err
    assert _state(repo) == state


def test_a_report_without_sources_takes_them_from_the_side_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", [CATALOG_TIMEOUT])
    report = json.loads(_report(capsys, repo, live, tmp_path / "report.json").read_text())
    assert report["schemaVersion"] == 4
    report["schemaVersion"] = 2  # as drift wrote it before provenance
    for resource in report["resources"]:
        for difference in resource["differences"]:
            del difference["source"]
    old = tmp_path / "v2.json"
    old.write_text(json.dumps(report))
    code, out, _ = _run(capsys, "propose", "--env", ENV, "--cluster", CLUSTER, "--repo", str(repo),
                        "--from-report", str(old), "--adopt", "--format", "json")  # fmt: skip
    assert code == 0
    [adopted] = json.loads(out)["adopted"]
    lines = (REPO / "environments" / f"{ENV}.yaml").read_text().splitlines()
    timeout = lines.index("    timeout: 5s") + 1  # catalog's (services[1]): the line moves
    assert adopted["field"] == "services[1].timeout" and adopted["source"]["line"] == timeout


TEAM_EDITS = [
    CATALOG_TIMEOUT,  # the platform's file
    ("VirtualService", "payments/ledger", ("spec", "http", 0, "timeout"), "8s"),
    *(  # a profile default the team's file may override: the service's resources block
        (
            "Deployment",
            "payments/fraud-v1",
            ("spec", "template", "spec", "containers", 0, "resources", kind, "memory"),
            "384Mi",
        )
        for kind in ("limits", "requests")
    ),
    (
        "Deployment",
        "search/query-v1",
        ("spec", "template", "spec", "containers", 0, "image"),
        "registry.example.com/search/query:4.0.2-hotfix",
    ),
]
PAYMENTS, SEARCH = "environments/prod/payments.yaml", "environments/prod/search.yaml"


def _line(repo: Path, file: str, text: str) -> int:
    return next(
        i for i, line in enumerate((repo / file).read_text().splitlines(), 1) if text in line
    )


def test_sources_in_a_team_file_name_its_line(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", TEAM_EDITS, "prod/prod-east")
    args = ["--env", "prod", "--cluster", "prod-east", "--repo", str(repo), "--live-dir", str(live)]
    code, out, _ = _run(capsys, "drift", *args, "--format", "json")
    assert code == 1
    found = {
        (r["namespace"], r["name"], d["path"]): d["source"]
        for r in json.loads(out)["resources"]
        for d in r["differences"]
    }
    assert found[("payments", "ledger", "/spec/http/0/timeout")] == {
        "file": PAYMENTS,
        "line": _line(repo, PAYMENTS, "timeout: 5s"),
        "field": "namespaces[0].services[0].timeout",
    }
    assert found[("search", "query-v1", "/spec/template/spec/containers/0/image")] == {
        "file": SEARCH,
        "line": _line(repo, SEARCH, "image: registry.example.com/search/query"),
        "field": "namespaces[0].services[0].image",
    }
    memory = "/spec/template/spec/containers/0/resources/limits/memory"
    assert found[("payments", "fraud-v1", memory)] == {
        "profile": "prod",
        "key": "resources.memory",
        "override": "namespaces[0].services[1].resources.memory",
        "file": PAYMENTS,
    }


def test_adopt_edits_each_team_file_and_the_platform_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", TEAM_EDITS, "prod/prod-east")
    args = ["--env", "prod", "--cluster", "prod-east", "--repo", str(repo), "--live-dir", str(live)]
    code, out, _ = _run(capsys, "propose", *args, "--adopt", "--format", "json")
    assert code == 0, out
    proposal = json.loads(out)
    assert proposal["cannotAdopt"] == []
    assert {(a["file"], a["field"]) for a in proposal["adopted"]} == {
        ("environments/prod.yaml", "services[1].timeout"),
        (PAYMENTS, "namespaces[0].services[0].timeout"),
        (PAYMENTS, "namespaces[0].services[1].resources.memory"),
        (SEARCH, "namespaces[0].services[0].image"),
    }
    assert {"environments/prod.yaml", PAYMENTS, SEARCH} <= set(proposal["written"]["files"])
    payments = (repo / PAYMENTS).read_text()
    assert "        timeout: 8s\n" in payments
    # the created block says every field it replaces the profile's with (cpu stays 250m)
    assert "        resources: {cpu: 250m, memory: 384Mi}\n" in payments
    assert "4.0.2-hotfix" in (repo / SEARCH).read_text()
    assert f"+++ b/{PAYMENTS}" in proposal["patch"] and f"+++ b/{SEARCH}" in proposal["patch"]
    assert synth.run(repo / "environments", repo / "dist", check=True).changes.empty
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "adopt")
    code, out, _ = _run(capsys, "drift", *args)
    assert code == 0, out


def test_adopt_onto_a_branch_commits_the_team_file(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _dump(repo, tmp_path / "live" / "dump.yaml", TEAM_EDITS[1:2], "prod/prod-east")
    head = _git(repo, "rev-parse", "HEAD")
    args = ["--env", "prod", "--cluster", "prod-east", "--repo", str(repo), "--live-dir", str(live)]
    code, out, _ = _run(capsys, "propose", *args, "--adopt", "--branch", "fix/ledger")
    assert code == 0, out
    assert f"Adopt (verified: {PAYMENTS} re-rendered gives the live value)" in out
    changed = _git(repo, "diff", "--name-only", head, "fix/ledger").splitlines()
    assert PAYMENTS in changed and "environments/prod.yaml" not in changed
    assert "timeout: 8s" in _git(repo, "show", f"fix/ledger:{PAYMENTS}")
    message = _git(repo, "log", "-1", "--format=%B", "fix/ledger")
    assert f"Adopted in {PAYMENTS}" in message
