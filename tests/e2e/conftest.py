"""Real Argo CD syncing this repository's dist/ into local control planes (the sandbox).

Argo CD is built from its pinned Go module (scripts/tools.py build argocd, or MESHOPS_ARGOCD_BIN);
redis is Debian's redis-server. The repository served to Argo CD is a fresh git repository
holding this checkout's dist/ and environments/ (the working tree: what you are about to
commit), so tests can commit to it without touching the checkout. Every wait is bounded;
every process is stopped by its pid when the session ends, and a failing test gets the
tails of Argo CD's logs.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from charts_py import kubeapi
from charts_py.cluster import controlplane, sandbox

REPO = Path(__file__).resolve().parents[2]
SYNC_TIMEOUT = 420.0
"""Four Applications of ~130 objects each on two shared cores; a first sync takes minutes."""
STATE: dict[str, Path] = {}
T = TypeVar("T")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=e2e", "-c", "user.email=e2e@localhost", *args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with this checkout's dist/ and environments/, committed on main."""
    repo = tmp_path_factory.mktemp("served") / "meshops"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for folder in ("dist", "environments"):
        shutil.copytree(REPO / folder, repo / folder)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dist as generated")
    return repo


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.LocalCluster]:
    state = tmp_path_factory.mktemp("hub")
    yield controlplane.up(state)
    controlplane.down(state)


@pytest.fixture(scope="session")
def gitops(
    tmp_path_factory: pytest.TempPathFactory, served: Path, hub: controlplane.LocalCluster
) -> Iterator[sandbox.Sandbox]:
    state = tmp_path_factory.mktemp("sandbox")
    STATE["dir"] = state
    running = sandbox.up(state, served, Path(hub.kubeconfig))
    yield running
    sandbox.down(state)


@pytest.fixture(scope="session")
def argo(gitops: sandbox.Sandbox) -> kubeapi.Cluster:
    """The hub, where the Applications live."""
    return kubeapi.Cluster.connect(gitops.hub_kubeconfig)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = SYNC_TIMEOUT) -> T:
    """`probe()` once it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(2)


def applications(argo: kubeapi.Cluster) -> dict[str, dict[str, Any]]:
    """Every Application on the hub, by name."""
    resource = argo.resource("argoproj.io/v1alpha1", "Application")
    return {a["metadata"]["name"]: a for a in argo.list(resource)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and "dir" in STATE:
        for name in ("argocd-application-controller", "argocd-repo-server",
                     "argocd-applicationset-controller"):  # fmt: skip
            tail = controlplane.log_tail(STATE["dir"] / "argocd", name, 25)
            report.sections.append((f"{name} log (last 25 lines)", tail))
