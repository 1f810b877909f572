"""The local git server (charts_py/cluster/gitserver.py) with credentials: it answers 401
without them, serves and accepts a push with them (what the image tier's job relies on), and
refuses a push where none are asked for (http-backend's own rule)."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py.cluster import gitserver

ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=cwd, env=ENV, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    assert git("init", "-q", "-b", "main", str(work)).returncode == 0
    (work / "a.txt").write_text("a\n")
    assert git("add", "-A", cwd=work).returncode == 0
    assert git("commit", "-q", "-m", "a", cwd=work).returncode == 0
    root = tmp_path / "root"
    root.mkdir()
    assert git("clone", "-q", "--bare", str(work), str(root / "r.git")).returncode == 0
    return root


def running(root: Path, credentials: str | None) -> Iterator[str]:
    with gitserver.server(root, 0, credentials) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.fixture
def guarded(served: Path) -> Iterator[str]:
    yield from running(served, "job:s3cret")


@pytest.fixture
def open_server(served: Path) -> Iterator[str]:
    yield from running(served, None)


def test_without_credentials_it_answers_401(guarded: str) -> None:
    done = git("ls-remote", f"http://{guarded}/r.git")
    assert done.returncode != 0
    assert "could not read Username" in done.stderr  # git asked for credentials: a 401


def test_with_wrong_credentials_it_answers_401(guarded: str) -> None:
    assert git("ls-remote", f"http://job:wrong@{guarded}/r.git").returncode != 0


def test_with_credentials_it_serves_and_accepts_a_push(guarded: str, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    assert git("clone", "-q", f"http://job:s3cret@{guarded}/r.git", str(clone)).returncode == 0
    (clone / "b.txt").write_text("b\n")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "b", cwd=clone)
    pushed = git("push", "-q", "origin", "HEAD:refs/heads/pushed", cwd=clone)
    assert pushed.returncode == 0, pushed.stderr
    assert "refs/heads/pushed" in git("ls-remote", f"http://job:s3cret@{guarded}/r.git").stdout


def test_without_asking_for_credentials_it_serves_but_refuses_a_push(
    open_server: str, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    assert git("clone", "-q", f"http://{open_server}/r.git", str(clone)).returncode == 0
    assert git("push", "-q", "origin", "HEAD:refs/heads/pushed", cwd=clone).returncode != 0
