"""The pinned-tool provisioner (charts_py/tools.py, scripts/tools.py): pins, overrides, the cache.

The real builds take minutes to half an hour (scripts/test.sh and .ci/run run them); here a
tool of our own whose recipe writes a shell script stands in for Go, to prove the cache's
contract: a folder exists only complete, a failed build leaves nothing, two callers build once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py import tools
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "tools.py"


def test_every_tool_is_pinned_once_and_every_go_mod_requires_its_pin() -> None:
    """scripts/tools.toml names each tool's versions; the go.mod locking each one agrees."""
    pinned = {name: tools.pins(name) for name in tools.TOOLS}
    assert set(pinned) == {"controlplane", "istioctl", "argocd", "helm", "adapter-check"}
    for name, tool in tools.TOOLS.items():
        assert set(tool.locks) <= set(pinned[name]), name
        tools._check_locks(tool, pinned[name])


def test_a_go_mod_that_disagrees_with_the_pin_stops_the_build() -> None:
    tool = tools.TOOLS["istioctl"]
    with pytest.raises(tools.ToolError, match=r"istioctl/go.mod: requires istio.io/istio v0\.0"):
        tools._check_locks(tool, {"istio.io/istio": "v1.99.0"})


def test_a_go_mod_version_is_read_from_a_require_line_or_block() -> None:
    gomod = "module x\n\nrequire a.io/b v1.2.3\n\nrequire (\n\tc.io/d v0.1.0 // indirect\n)\n"
    assert tools.locked_version(gomod, "a.io/b") == "v1.2.3"
    assert tools.locked_version(gomod, "c.io/d") == "v0.1.0"
    assert tools.locked_version(gomod, "e.io/f") is None


def test_an_override_is_used_as_is_and_a_wrong_one_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MESHOPS_HELM", sys.executable)
    assert tools.path("helm") == Path(sys.executable)
    monkeypatch.setenv("MESHOPS_HELM", str(tmp_path / "helm"))
    with pytest.raises(tools.ToolError, match=f"MESHOPS_HELM={tmp_path}/helm: not an executable"):
        tools.path("helm")
    (tmp_path / "etcd").write_text("")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    with pytest.raises(
        tools.ToolError, match=r"KUBEBUILDER_ASSETS=.*: missing etcd, kube-apiserver"
    ):
        tools.provide("controlplane")


def test_an_empty_cache_holds_nothing_and_path_never_builds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name, tool in tools.TOOLS.items():
        monkeypatch.delenv(tool.override, raising=False)
        assert tools.path(name) is None
    assert list(tmp_path.iterdir()) == []


def test_the_cli_prints_only_paths_on_stdout(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path), "MESHOPS_HELM": sys.executable}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(SCRIPT), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    named = run("path", "helm")
    assert (named.returncode, named.stdout) == (0, f"{sys.executable}\n")
    absent = run("path", "--cached", "istioctl")
    assert (absent.returncode, absent.stdout) == (1, "")
    assert "scripts/tools.py build istioctl" in absent.stderr


# --- the cache's contract, with a tool of our own ----------------------------------------------


class Recipe:
    """Writes a `fake` executable after `delay` seconds, or fails; counts its runs."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay, self.fail, self.runs = delay, fail, 0

    def __call__(self, build: tools.Build) -> None:
        self.runs += 1
        time.sleep(self.delay)
        if self.fail:
            raise tools.ToolError("fake: the compiler said no")
        (build.into / "fake").write_text("#!/bin/sh\necho fake\n")
        (build.into / "fake").chmod(0o755)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recipe]:
    pins = tmp_path / "tools.toml"
    pins.write_text('[fake]\n"example.com/fake" = "v1.0.0"\n')
    monkeypatch.setattr(tools, "PINS", pins)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MESHOPS_FAKE", raising=False)
    recipe = Recipe()
    tool = tools.Tool(name="fake", override="MESHOPS_FAKE", required=("fake",), is_folder=False,
                      locks={}, recipe=lambda build: recipe(build))  # fmt: skip
    monkeypatch.setitem(tools.TOOLS, "fake", tool)
    yield recipe


def test_a_build_is_published_whole_under_its_version(fake: Recipe, tmp_path: Path) -> None:
    assert tools.path("fake") is None
    built = tools.provide("fake")
    assert built == tmp_path / "cache" / "meshops" / "fake" / "v1.0.0" / "fake"
    assert subprocess.run([built], capture_output=True, text=True).stdout == "fake\n"
    assert tools.path("fake") == built and tools.provide("fake") == built
    assert fake.runs == 1
    assert sorted(p.name for p in built.parent.parent.iterdir()) == [".lock", "v1.0.0"]


def test_a_failed_build_leaves_nothing_behind(fake: Recipe, tmp_path: Path) -> None:
    fake.fail = True
    with pytest.raises(tools.ToolError, match="the compiler said no"):
        tools.provide("fake")
    assert sorted(p.name for p in (tmp_path / "cache" / "meshops" / "fake").iterdir()) == [".lock"]
    assert tools.path("fake") is None


def test_a_second_caller_waits_for_the_first_build_instead_of_building(
    fake: Recipe, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.delay = 0.5
    found: list[Path] = []
    callers = [threading.Thread(target=lambda: found.append(tools.provide("fake"))) for _ in "ab"]
    for caller in callers:
        caller.start()
        time.sleep(0.1)
    for caller in callers:
        caller.join()
    assert fake.runs == 1 and len(found) == 2 and found[0] == found[1]
    assert "another process is building it; waiting" in capsys.readouterr().err


def test_a_long_build_says_it_is_alive(
    fake: Recipe, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "HEARTBEAT", 0.1)
    fake.delay = 0.35
    tools.provide("fake")
    err = capsys.readouterr().err
    assert err.count("fake:   still building") >= 2
    assert "fake: installed into" in err
