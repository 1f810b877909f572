"""Start, stop and inspect a local kube-apiserver + etcd, envtest-style.

The processes run in their own sessions, so they outlive `meshops cluster up`; their pids,
logs, data and credentials live in one state folder, and `down` stops exactly the processes
whose pids it recorded there (after checking they are still ours).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from charts_py.cluster import binaries, pki, processes
from charts_py.errors import ClusterError

READY_TIMEOUT = 60.0
LOG_TAIL = 20
CRD_MANAGER = "meshops"


def default_state_dir() -> Path:
    """`$MESHOPS_CLUSTER_DIR`, else `$XDG_STATE_HOME/meshops/local-cluster`."""
    if "MESHOPS_CLUSTER_DIR" in os.environ:
        return Path(os.environ["MESHOPS_CLUSTER_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "meshops" / "local-cluster"


@dataclass(frozen=True, kw_only=True)
class LocalCluster:
    """A running control plane, as recorded in its state folder."""

    state_dir: str
    server: str
    kubeconfig: str
    etcd_pid: int
    apiserver_pid: int

    @classmethod
    def load(cls, state_dir: Path) -> LocalCluster | None:
        try:
            return cls(**json.loads((state_dir / "cluster.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None


def up(state_dir: Path, kubeconfig: Path | None = None, *, audit: bool = False) -> LocalCluster:
    """Start a fresh control plane (or return the running one) with the CRDs installed.

    A `kubeconfig` path is written either way: asked for while an earlier `up` is still
    running, it gets a kubeconfig for that control plane. `audit` (for a fresh start)
    records every request's user, verb, object and answer in `<state_dir>/audit.log`
    (`audit_log`): how a test proves what a ServiceAccount was refused.
    """
    running = LocalCluster.load(state_dir)
    if running and ready(state_dir):
        if kubeconfig is None:
            return running
        pki_dir = state_dir / "pki"
        write_kubeconfig(kubeconfig, running.server, pki_dir / "ca.crt", _admin_token(pki_dir))
        return replace(running, kubeconfig=str(kubeconfig))
    down(state_dir)
    bins = binaries.locate()
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _launch(state_dir, bins, kubeconfig or state_dir / "kubeconfig", audit)
    except BaseException:
        down(state_dir)  # a failed start leaves no process and no state behind
        raise


def _launch(state_dir: Path, bins: Path, kubeconfig: Path, audit: bool) -> LocalCluster:
    creds = pki.create(state_dir / "pki")
    etcd_port, api_port = free_port(), free_port()
    flags = _apiserver_flags(creds, etcd_port, api_port)
    if audit:
        flags += _audit_flags(state_dir)
    etcd = processes.start(
        state_dir, "etcd", [str(bins / "etcd"), *_etcd_flags(state_dir, etcd_port)]
    )
    api = processes.start(
        state_dir,
        "kube-apiserver",
        [str(bins / "kube-apiserver"), *flags],
    )
    server = f"https://127.0.0.1:{api_port}"
    cluster = LocalCluster(
        state_dir=str(state_dir),
        server=server,
        kubeconfig=str(kubeconfig),
        etcd_pid=etcd.pid,
        apiserver_pid=api.pid,
    )
    (state_dir / "cluster.json").write_text(json.dumps(asdict(cluster), indent=2))
    _wait_ready(state_dir, cluster, creds)
    write_kubeconfig(kubeconfig, server, creds.ca_cert, creds.admin_token)
    install_crds(str(kubeconfig))
    return cluster


def down(state_dir: Path) -> bool:
    """Stop the recorded processes and remove the state folder; False if nothing ran."""
    cluster = LocalCluster.load(state_dir)
    stopped = False
    if cluster:
        for pid, name in ((cluster.apiserver_pid, "kube-apiserver"), (cluster.etcd_pid, "etcd")):
            stopped |= processes.stop(pid, name)
    if state_dir.is_dir() and (cluster or (state_dir / "pki").is_dir()):
        shutil.rmtree(state_dir, ignore_errors=True)
    return stopped


def ready(state_dir: Path) -> bool:
    """True while the recorded API server answers /readyz."""
    cluster = LocalCluster.load(state_dir)
    if cluster is None:
        return False
    pki_dir = state_dir / "pki"
    return _readyz(cluster.server, pki_dir / "ca.crt", _admin_token(pki_dir))


def _admin_token(pki_dir: Path) -> str:
    """The admin token recorded in the API server's token file (written by pki.create)."""
    return (pki_dir / "tokens.csv").read_text().split(",", 1)[0]


def log_tail(state_dir: Path, name: str, lines: int = LOG_TAIL) -> str:
    """The last lines of a process log (for crash reports and failed tests)."""
    try:
        text = (state_dir / f"{name}.log").read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_kubeconfig(path: Path, server: str, ca: Path, token: str) -> None:
    """A kubeconfig with one context, `meshops-local`, authenticating with the admin token."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "meshops-local",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": "meshops-admin", "user": {"token": token}}],
        "contexts": [
            {
                "name": "meshops-local",
                "context": {"cluster": "meshops-local", "user": "meshops-admin"},
            }
        ],
        "current-context": "meshops-local",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def install_crds(kubeconfig: str) -> int:
    """Server-side apply the packaged CRDs (Istio's, prometheus-operator's, Argo CD's and
    Gateway API's) and wait until they are established."""
    from charts_py import kubeapi
    from charts_py.config import installation

    cluster = kubeapi.Cluster.connect(kubeconfig)
    packaged = resources.files("charts_py") / "crds"
    # The channel production runs (docs/control-plane.md), so a dry-run here is its verdict.
    folders = (packaged, packaged / "gateway-api" / installation.GATEWAY_API_CHANNEL)
    crds = [
        yaml.safe_load(f.read_text(encoding="utf-8"))
        for folder in folders
        for f in sorted(folder.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".yaml")
    ]
    for crd in crds:
        cluster.apply(crd, field_manager=CRD_MANAGER)
    names = {crd["metadata"]["name"] for crd in crds}
    resource = cluster.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    deadline = time.monotonic() + READY_TIMEOUT
    while names - _established(cluster.list(resource)):
        if time.monotonic() > deadline:
            raise ClusterError(f"CRDs not established after {READY_TIMEOUT:.0f}s")
        time.sleep(0.2)
    return len(crds)


def _established(items: Iterable[dict[str, Any]]) -> set[str]:
    out = set()
    for crd in items:
        for cond in (crd.get("status") or {}).get("conditions") or []:
            if cond["type"] == "Established" and cond["status"] == "True":
                out.add(crd["metadata"]["name"])
    return out


def _etcd_flags(state_dir: Path, port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}"
    return [
        f"--data-dir={state_dir / 'etcd-data'}",
        f"--listen-client-urls={url}",
        f"--advertise-client-urls={url}",
        "--listen-peer-urls=http://127.0.0.1:0",
        "--unsafe-no-fsync=true",
        "--log-level=warn",
    ]


def _apiserver_flags(creds: pki.Credentials, etcd_port: int, port: int) -> list[str]:
    return [
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={creds.ca_cert.parent}",
        f"--tls-cert-file={creds.serving_cert}",
        f"--tls-private-key-file={creds.serving_key}",
        f"--client-ca-file={creds.ca_cert}",
        "--authorization-mode=RBAC",
        "--anonymous-auth=false",
        f"--token-auth-file={creds.token_file}",
        f"--service-account-issuer=https://127.0.0.1:{port}",
        f"--service-account-key-file={creds.sa_public}",
        f"--service-account-signing-key-file={creds.sa_private}",
        # No controllers run, so deleted test namespaces keep their Services: leave room.
        "--service-cluster-ip-range=10.96.0.0/16",
        # No nodes: the default reconciler would keep failing to publish a loopback endpoint.
        "--endpoint-reconciler-type=none",
    ]


AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}
"""Who asked what of which object, and the answer's code; never a request or response body
(Secrets stay out of the log)."""


def audit_log(state_dir: Path) -> Path:
    """Where a control plane started with `audit=True` writes its audit events (JSON lines)."""
    return state_dir / "audit.log"


def _audit_flags(state_dir: Path) -> list[str]:
    policy = state_dir / "audit-policy.yaml"
    policy.write_text(yaml.safe_dump(AUDIT_POLICY, sort_keys=False))
    return [
        f"--audit-policy-file={policy}",
        f"--audit-log-path={audit_log(state_dir)}",
        "--audit-log-format=json",
        "--audit-log-mode=blocking",
    ]


def _wait_ready(state_dir: Path, cluster: LocalCluster, creds: pki.Credentials) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not _readyz(cluster.server, creds.ca_cert, creds.admin_token):
        for pid, name in ((cluster.etcd_pid, "etcd"), (cluster.apiserver_pid, "kube-apiserver")):
            if not processes.alive(pid):
                tail = log_tail(state_dir, name)
                raise ClusterError(f"{name} exited during start-up; last log lines:\n{tail}")
        if time.monotonic() > deadline:
            tail = log_tail(state_dir, "kube-apiserver")
            raise ClusterError(f"API server not ready after {READY_TIMEOUT:.0f}s:\n{tail}")
        time.sleep(0.1)


def _readyz(server: str, ca: Path, token: str) -> bool:
    context = ssl.create_default_context(cafile=str(ca))
    request = urllib.request.Request(
        f"{server}/readyz", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False
