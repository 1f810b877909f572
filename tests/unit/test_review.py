"""`meshops review` end to end: a real git repository holding this checkout's environments/
and dist/ on `main`, one branch per edit of a sample environment file (rendered by real synth
and committed), and the review of `main` -> that branch through the CLI, read as JSON.

Each change class has its edit, its expected kind, risk and blast radius; edits that change
no object (a comment, a reformatted file, reordered keys) report nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli
from charts_py.render import synth

REPO = Path(__file__).resolve().parents[2]
PROD = ["prod-east", "prod-west"]
_ID = ("-c", "user.name=t", "-c", "user.email=t@example.com")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *_ID, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose `main` holds this checkout's environments/ and dist/ (current)."""
    root = tmp_path_factory.mktemp("review") / "shop"
    root.mkdir()
    for folder in ("environments", "dist"):
        shutil.copytree(REPO / folder, root / folder)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root


Edit = Callable[[str], str]


def branch(repo: Path, name: str, env: str, edit: Edit, *, synthesise: bool = True) -> str:
    """A branch off main whose commit edits environments/<env>.yaml (and its dist/)."""
    _git(repo, "checkout", "-q", "-B", name, "main")
    path = repo / "environments" / f"{env}.yaml"
    text = path.read_text()
    changed = edit(text)
    assert changed != text, "the edit did not apply"
    path.write_text(changed)
    if synthesise:
        synth.run(repo / "environments", repo / "dist", [env])
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", name)
    _git(repo, "checkout", "-q", "main")
    return name


def review(
    repo: Path, capsys: pytest.CaptureFixture[str], *args: str, code: int = 0
) -> dict[str, Any]:
    capsys.readouterr()
    assert cli.main(["review", "--repo", str(repo), "--format", "json", *args]) == code
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def only(data: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in data["changes"] if c["kind"] == kind]
    assert len(found) == 1, json.dumps(data["changes"], indent=1)
    return found[0]


# --- one test per change class ------------------------------------------------------------


def test_canary_shift_is_one_change_for_both_clusters(shop: Path, capsys: Any) -> None:
    shift = replace("{name: v1, weight: 90}", "{name: v1, weight: 80}")
    name = branch(shop, "shift", "prod", lambda t: shift(t).replace("weight: 10,", "weight: 20,"))
    data = review(shop, capsys, "--base", "main", "--head", name)
    assert data["schemaVersion"] == 1
    assert data["base"] == {"ref": "main", "commit": _git(shop, "rev-parse", "main")}
    assert data["head"] == {"ref": name, "commit": _git(shop, "rev-parse", name)}
    change = only(data, "traffic-shift")
    assert [c["kind"] for c in data["changes"]] == ["traffic-shift"]
    assert change["env"] == "prod" and change["clusters"] == PROD
    assert (change["service"], change["namespace"]) == ("reviews", "shop")
    assert change["before"] == {"v1": 90, "v2": 10} and change["after"] == {"v1": 80, "v2": 20}
    assert change["risk"] == "medium"
    assert change["blastRadius"] == {"callers": ["catalog", "frontend"], "ingressHosts": []}
    assert change["source"]["file"] == "environments/prod.yaml"
    assert change["source"]["field"] == "services[2].versions[0].weight"
    assert change["source"]["line"] == 40
    assert {o["cluster"] for o in change["objects"]} == set(PROD)
    assert {o["kind"] for o in change["objects"]} == {"VirtualService"}
    assert data["summary"]["changes"] == 1 and data["summary"]["risk"] == "medium"


def test_shorter_timeout_is_high_and_names_its_callers(shop: Path, capsys: Any) -> None:
    name = branch(shop, "timeout", "prod", replace("timeout: 5s", "timeout: 4500ms"))
    change = only(review(shop, capsys, "--base", "main", "--head", name), "timeout")
    assert (change["service"], change["before"], change["after"]) == ("catalog", "5s", "4500ms")
    assert change["risk"] == "high" and change["clusters"] == PROD
    assert change["blastRadius"]["callers"] == ["frontend", "recommendations"]
    assert change["source"] == {
        "file": "environments/prod.yaml", "line": 35, "field": "services[1].timeout"
    }  # fmt: skip


def test_retries_carry_their_budget_against_the_timeout(shop: Path, capsys: Any) -> None:
    edit = replace("retries: {attempts: 2, perTryTimeout: 1500ms}", "retries: {attempts: 3, perTryTimeout: 1200ms}")
    change = only(review(shop, capsys, "--base", "main", "--head", branch(shop, "retries", "prod", edit)), "retries")
    assert change["service"] == "catalog" and change["risk"] == "medium"
    assert change["before"]["budget"] == "4.5s" and change["after"]["budget"] == "4.8s"
    assert change["after"]["timeout"] == "5s" and change["after"]["attempts"] == 3


def test_outlier_detection_change(shop: Path, capsys: Any) -> None:
    edit = replace(
        "    calls: [cart, payment, shipping, accounts]\n",
        "    calls: [cart, payment, shipping, accounts]\n    outlierDetection: {consecutive5xxErrors: 3,"
        " interval: 5s, baseEjectionTime: 60s, maxEjectionPercent: 30}\n",
    )
    change = only(review(shop, capsys, "--base", "main", "--head", branch(shop, "outlier", "prod", edit)), "outlier")
    assert change["service"] == "checkout" and change["risk"] == "medium"
    assert change["before"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert change["after"]["outlierDetection"]["consecutive5xxErrors"] == 3
    assert change["blastRadius"]["callers"] == ["frontend"]
