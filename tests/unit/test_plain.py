"""The speed tricks change nothing but time: with and without MESHOPS_PLAIN=1, `meshops synth`
writes the same dist/ bytes and drift reaches the same report on every recorded case.
(The same on the real API server: tests/integration/test_plain.py.)"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from charts_py import cli, speed, yamlio
from charts_py.drift import parse, run
from charts_py.report import formats
from charts_py.speed import fork
from tests.conftest import REPO

SCRIPT = Path(sys.executable).parent / "meshops"
BOOKINFO = REPO / "tests" / "testdata" / "istio" / "samples" / "bookinfo"
SECOND_GATEWAY = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: blog, namespace: blog}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
"""
CASES = REPO / "tests" / "testdata" / "drift"
NAMES = sorted(p.name.removesuffix("-expected.yaml") for p in CASES.glob("*-expected.yaml"))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_synth_writes_the_same_bytes_with_and_without_the_tricks(tmp_path: Path) -> None:
    """The console script, as users run it: validation forked or not, start-up overlapped
    or not, leaving through os._exit or sys.exit."""
    trees = {}
    for mode, switch in (("tricks", "0"), ("plain", "1")):
        dist = tmp_path / mode
        env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), speed.SWITCH: switch}
        done = subprocess.run([str(SCRIPT), "synth", "--dist", str(dist)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        trees[mode] = _tree(dist)
    assert trees["tricks"] == trees["plain"]
    assert trees["plain"] == _tree(REPO / "dist")  # and what is committed


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose dist/e/<case>/ holds each recorded case's desired objects."""
    repo = tmp_path_factory.mktemp("recorded")
    for name in NAMES:
        folder = repo / "dist" / "e" / name
        folder.mkdir(parents=True)
        documents = yamlio.load_all((CASES / f"{name}-desired.yaml").read_text())
        for index, document in enumerate(d for d in documents if d):
            (folder / f"{index}.yaml").write_text(yaml.safe_dump(document))
    git.Repo.init(repo, initial_branch="main")
    git.Repo(repo).git.add("-A")
    # Its own identity: a fresh machine has no global git user (git refuses to commit).
    identity = git.Repo(repo).config_writer()
    identity.set_value("user", "name", "t").set_value("user", "email", "t@example.com")
    identity.release()
    git.Repo(repo).git.commit("-m", "cases")
    return repo


def _report(repo: Path, name: str) -> str:
    options = run.Options(env="e", cluster=name, repo=repo, live_dir=CASES / f"{name}-live.yaml")
    report = run.run(options)[0]
    return formats.json_text(dataclasses.replace(report, started_at="", finished_at=""))


@pytest.mark.parametrize("name", NAMES)
def test_drift_reports_the_same_with_and_without_the_tricks(
    recorded: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked: list[Any] = []
    monkeypatch.setattr(parse, "MIN_FILES", 1)  # fork for one file too, to compare
    monkeypatch.setattr(fork, "_cores", lambda: 2)
    monkeypatch.setattr(fork.Worker, "__init__", _counted(fork.Worker.__init__, forked))
    monkeypatch.delenv(speed.SWITCH, raising=False)
    with_tricks = _report(recorded, name)
    assert len(forked) == 1  # the parse worker ran
    monkeypatch.setenv(speed.SWITCH, "1")
    assert _report(recorded, name) == with_tricks
    assert len(forked) == 1  # and did not, plain


def _counted(init: Any, calls: list[Any]) -> Any:
    def counted(self: fork.Worker, *args: Any, **kwargs: Any) -> None:
        calls.append(args)
        init(self, *args, **kwargs)

    return counted


def test_import_writes_and_says_the_same_with_and_without_the_tricks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bookinfo and a second Gateway on its host:port (a refusal: validation's verdict
    matters), imported with validation in its worker (and the collector paused), then
    plain: the same file, report and table."""
    (tmp_path / "blog.yaml").write_text(SECOND_GATEWAY)
    sources = [
        BOOKINFO / "platform/kube/bookinfo.yaml",
        BOOKINFO / "networking/bookinfo-gateway.yaml",
    ]
    forked: list[Any] = []
    monkeypatch.setattr(fork, "_cores", lambda: 2)
    monkeypatch.setattr(fork.Worker, "__init__", _counted(fork.Worker.__init__, forked))
    said = {}
    for switch in ("0", "1"):
        monkeypatch.setenv(speed.SWITCH, switch)
        folder = tmp_path / switch
        argv = ["import", "--env", "bookinfo", "--environments", str(folder)]
        argv += ["--report", str(folder / "report.json"), "--from-dir", *map(str, sources)]
        assert cli.main([*argv, str(tmp_path / "blog.yaml")]) == 0
        said[switch] = capsys.readouterr().out.replace(str(folder), "FOLDER")
        assert len(forked) == 1  # the validation worker ran with the tricks only
    assert "[gateway-host-port]" in said["0"]
    assert said["0"] == said["1"]
    assert _tree(tmp_path / "0") == _tree(tmp_path / "1")
