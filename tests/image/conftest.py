"""The image tier: the nightly job's image, built from the Dockerfile, run as dist/ declares.

Everything it talks to is real and on 127.0.0.1: a control plane of its own (RBAC, with an
audit log), a git server over smart HTTP that asks for credentials, a real Pushgateway
(Debian's `prometheus-pushgateway`) and a webhook receiver (ours: it only records). podman
runs the container (scripts/image/containers.conf: runc, cgroupfs, no default ulimits).
Every server is stopped when the session ends; a failing test gets the API server's log.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from charts_py import kubeapi
from charts_py.cluster import controlplane, gitserver
from tests import tools

REPO = Path(__file__).resolve().parents[2]
STATE: dict[str, Path] = {}
os.environ["CONTAINERS_CONF"] = str(REPO / "scripts" / "image" / "containers.conf")


@pytest.fixture(scope="session")
def image() -> str:
    """The image built from the Dockerfile (scripts/image/build.sh: cached by content)."""
    tools.require("podman")
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "image" / "build.sh")],
        stdout=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"scripts/image/build.sh failed with exit code {done.returncode}")
    return done.stdout.strip()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.LocalCluster]:
    state = tmp_path_factory.mktemp("control-plane")
    STATE["dir"] = state
    yield controlplane.up(state, audit=True)
    controlplane.down(state)


@pytest.fixture(scope="session")
def kube(control_plane: controlplane.LocalCluster) -> kubeapi.Cluster:
    return kubeapi.Cluster.connect(control_plane.kubeconfig)


@dataclass
class Received:
    """What the webhook receiver was sent: (path, content type, body) per POST."""

    posts: list[tuple[str, str, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, Received]]:
    """A receiver on 127.0.0.1 answering 200 to every POST; its base URL and what it got."""
    received = Received()

    class Record(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.posts.append((self.path, self.headers.get("Content-Type", ""), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Record) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}", received
        server.shutdown()


@pytest.fixture(scope="module")
def git_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A git server over smart HTTP that wants `credentials`: its root, URL and credentials."""
    root = tmp_path_factory.mktemp("git")
    credentials = "meshops-drift:" + os.urandom(12).hex()
    with gitserver.server(root, 0, credentials) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield root, f"http://127.0.0.1:{server.server_address[1]}", credentials
        server.shutdown()


def start_pushgateway(port: int, log: Path) -> subprocess.Popen[bytes]:
    """Debian's Pushgateway on 127.0.0.1:`port`, once it answers."""
    binary = tools.require("prometheus-pushgateway")
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, f"--web.listen-address={address}"],
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pushgateway on {address} exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{address}/-/ready", timeout=1):
                return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"pushgateway on {address} not ready after 20 s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and "dir" in STATE:
        tail = controlplane.log_tail(STATE["dir"], "kube-apiserver", 40)
        report.sections.append(("kube-apiserver log (last 40 lines)", tail))
