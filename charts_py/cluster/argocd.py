"""Argo CD itself on the local control plane: the three components a sync needs, and redis.

Built from its pinned Go module (charts_py/tools.py); one binary, run under each component's
name. No Argo CD API server, UI or Dex: Applications are objects, read and written through
the Kubernetes API like everything else here. What running outside a pod takes (learned on
v3.6.1): the repo-server serves plaintext only with `--disable-tls` and an empty
`--client-ca-path`, the controllers then need `--repo-server-plaintext`; the repo-server
runs `git-verify-wrapper.sh` from PATH for every manifest generation; Argo CD's six config
maps and `argocd-secret` (with `server.secretkey`) must exist. The application
controller's metrics listener takes a port but no address, so it binds every interface:
it gets a free port, and the sandbox is meant to be short-lived.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import kubeapi
from charts_py.cluster import binaries, controlplane, processes
from charts_py.errors import ClusterError, UnknownKind

NAMESPACE = "argocd"
MANAGER = "meshops-sandbox"
READY_TIMEOUT = 90.0
PART_OF = {"app.kubernetes.io/part-of": "argocd"}
"""Argo CD's settings manager only reads config maps and secrets carrying this label."""
CONFIG_MAPS = (
    "argocd-cm",
    "argocd-rbac-cm",
    "argocd-cmd-params-cm",
    "argocd-tls-certs-cm",
    "argocd-ssh-known-hosts-cm",
    "argocd-gpg-keys-cm",
)
COMPONENTS = (
    "redis-server",
    "argocd-repo-server",
    "argocd-application-controller",
    "argocd-applicationset-controller",
)
"""In start order; stopped in reverse."""
RESYNC_SECONDS = 15
"""How often the controller re-reads git without being told (Argo CD's default is 120 s)."""


@dataclass(frozen=True)
class ArgoCD:
    """Running components, as recorded in `<state_dir>/argocd.json`."""

    state_dir: str
    namespace: str
    pids: dict[str, int]

    @classmethod
    def load(cls, state_dir: Path) -> ArgoCD | None:
        try:
            return cls(**json.loads((state_dir / "argocd.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None


def install(kube: kubeapi.Cluster, namespace: str = NAMESPACE) -> None:
    """The namespace, config maps and secret Argo CD's components refuse to start without."""
    kube.apply(_object("v1", "Namespace", namespace, None), field_manager=MANAGER)
    for name in CONFIG_MAPS:
        kube.apply(_object("v1", "ConfigMap", name, namespace), field_manager=MANAGER)
    path = kube.resource("v1", "Secret").path(namespace, "argocd-secret")
    try:
        kube.request("GET", path)
        return  # keep the existing key: it signs Argo CD's tokens
    except UnknownKind:  # kubeapi's name for a 404 on GET: the secret is absent
        pass
    secret = _object("v1", "Secret", "argocd-secret", namespace)
    secret["data"] = {"server.secretkey": _b64(secrets.token_urlsafe(32))}
    kube.apply(secret, field_manager=MANAGER)


def register(
    kube: kubeapi.Cluster, name: str, kubeconfig: Path, namespace: str = NAMESPACE
) -> None:
    """A cluster Secret naming the API server of `kubeconfig` as destination `name`."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    access = {
        "bearerToken": user["token"],
        "tlsClientConfig": {"caData": cluster["certificate-authority-data"]},
    }
    secret = _object("v1", "Secret", f"cluster-{name}", namespace)
    secret["metadata"]["labels"]["argocd.argoproj.io/secret-type"] = "cluster"
    secret["data"] = {
        "name": _b64(name),
        "server": _b64(cluster["server"]),
        "config": _b64(json.dumps(access)),
    }
    kube.apply(secret, field_manager=MANAGER)


def start(state_dir: Path, kubeconfig: Path, namespace: str = NAMESPACE) -> ArgoCD:
    """Start redis and the three components against the API server of `kubeconfig`."""
    stop(state_dir)
    bins = binaries.locate_argocd()
    state_dir.mkdir(parents=True, exist_ok=True)
    ports = {k: controlplane.free_port() for k in ("redis", "repo", "repo-metrics", "metrics")}
    ports |= {k: controlplane.free_port() for k in ("appset-metrics", "probe", "webhook")}
    env = _environment(state_dir, bins, kubeconfig)
    pids: dict[str, int] = {}
    try:
        for name in COMPONENTS:
            argv = _argv(name, bins, ports, str(kubeconfig), namespace)
            pids[name] = processes.start(state_dir, name, argv, env).pid
            _record(state_dir, namespace, pids)
            _wait(state_dir, name, pids[name], ports)
    except BaseException:
        stop(state_dir)
        raise
    return ArgoCD(str(state_dir), namespace, pids)


def stop(state_dir: Path) -> bool:
    """Stop every recorded component (by pid); False if none ran."""
    running = ArgoCD.load(state_dir)
    if running is None:
        return False
    stopped = False
    for name in reversed(COMPONENTS):
        if name in running.pids:
            stopped |= processes.stop(running.pids[name], name)
    (state_dir / "argocd.json").unlink(missing_ok=True)
    return stopped


def _argv(name: str, bins: Path, ports: dict[str, int], kubeconfig: str, ns: str) -> list[str]:
    local = "127.0.0.1"
    repo, redis = f"{local}:{ports['repo']}", f"{local}:{ports['redis']}"
    if name == "redis-server":
        redis_bin = shutil.which("redis-server")
        if redis_bin is None:
            raise ClusterError("redis-server is not on PATH (Debian package redis-server)")
        return [redis_bin, "--port", str(ports["redis"]), "--bind", local, "--save", ""]
    kube = ["--kubeconfig", kubeconfig, "--namespace", ns, "--loglevel", "info"]
    if name == "argocd-repo-server":
        return [
            str(bins / name), "--disable-tls", "--client-ca-path=", "--address", local,
            "--port", str(ports["repo"]), "--metrics-address", local,
            "--metrics-port", str(ports["repo-metrics"]), "--redis", redis,
            "--loglevel", "info",
        ]  # fmt: skip
    if name == "argocd-application-controller":
        return [
            str(bins / name), *kube, "--repo-server", repo, "--repo-server-plaintext",
            "--redis", redis, "--metrics-port", str(ports["metrics"]),
            "--app-resync", str(RESYNC_SECONDS), "--self-heal-timeout-seconds", "1",
            # v3 keeps per-resource health in redis only; this puts it back in the
            # Application's status.resources, where kubectl and the tests can read it.
            "--persist-resource-health",
        ]  # fmt: skip
    return [
        str(bins / name), *kube, "--argocd-repo-server", repo, "--repo-server-plaintext",
        "--metrics-addr", f"{local}:{ports['appset-metrics']}",
        "--probe-addr", f"{local}:{ports['probe']}",
        "--webhook-addr", f"{local}:{ports['webhook']}",
    ]  # fmt: skip


def _environment(state_dir: Path, bins: Path, kubeconfig: Path) -> dict[str, str]:
    """PATH with git-verify-wrapper.sh; KUBECONFIG (the ApplicationSet controller reads its
    cluster from controller-runtime's config, which ignores --kubeconfig); private temp,
    TLS, SSH and GPG folders (the defaults, /tmp/_argocd-repo and /app/config/..., would be
    shared by every instance)."""
    dirs = {name: state_dir / name for name in ("tmp", "home", "tls", "ssh", "gpg")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{bins}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(dirs["home"]),
        "KUBECONFIG": str(kubeconfig),
        "TMPDIR": str(dirs["tmp"]),
        "ARGOCD_TLS_DATA_PATH": str(dirs["tls"]),
        "ARGOCD_SSH_DATA_PATH": str(dirs["ssh"]),
        "ARGOCD_GNUPGHOME": str(dirs["gpg"]),
        "ARGOCD_GPG_ENABLED": "false",
    }


def _wait(state_dir: Path, name: str, pid: int, ports: dict[str, int]) -> None:
    """Until the component answers on its port; ClusterError with its log if it exits."""
    port = {
        "redis-server": ports["redis"],
        "argocd-repo-server": ports["repo"],
        "argocd-application-controller": ports["metrics"],
        "argocd-applicationset-controller": ports["probe"],
    }[name]
    deadline = time.monotonic() + READY_TIMEOUT
    while not _answers(port):
        if not processes.alive(pid):
            tail = controlplane.log_tail(state_dir, name, 30)
            raise ClusterError(f"{name} exited during start-up; last log lines:\n{tail}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{name} not answering on port {port} after {READY_TIMEOUT:.0f}s")
        time.sleep(0.2)


def _answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port` (the ApplicationSet
    controller's probe server has no health check registered: /healthz is a 404)."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _record(state_dir: Path, namespace: str, pids: dict[str, int]) -> None:
    record = ArgoCD(str(state_dir), namespace, dict(pids))
    (state_dir / "argocd.json").write_text(json.dumps(asdict(record), indent=2))


def _object(api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(PART_OF)}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
