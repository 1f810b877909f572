"""What a kubelet does for the nightly job's pod, done with podman on this machine.

There are no nodes here, so this module is the node: it takes the pod template of the CronJob
in dist/ and runs its container as a kubelet would. Field by field:

- `command`/`args`: the entrypoint and its arguments (the image's CMD is dropped when a
  command is given, as Kubernetes does);
- `env` (values and `secretKeyRef`) and `envFrom` (`secretRef`): read from the Secrets on the
  API server, `envFrom` first and `env` over it; handed to podman in a 0600 file, never as
  arguments; plus `KUBERNETES_SERVICE_HOST`/`PORT`, the in-cluster config's way to the server;
- `serviceAccountName`: a token from the TokenRequest API, as the kubelet asks for the
  default `kube-api-access` volume (the API server's own audiences, 3607 s, bound to the
  Pod object), mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount with
  `ca.crt` and `namespace`;
- `securityContext`: `runAsUser` (and `runAsNonRoot` checked), `readOnlyRootFilesystem`
  (without podman's extra tmpfs mounts), `allowPrivilegeEscalation: false`
  (no-new-privileges), dropped capabilities, `RuntimeDefault` seccomp (podman's default
  profile);
- `emptyDir` volumes: a fresh, world-writable folder; `resources.limits.memory`: `--memory`.

Anything else in the template is refused with its name: a field this module does not
translate would otherwise be silently dropped, and the run would prove less than it says.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charts_py import kubeapi

TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_SECONDS = 3607
"""The kubelet's lifetime for the default token volume (one hour and seven seconds)."""
POD_FIELDS = {"containers", "restartPolicy", "securityContext", "serviceAccountName", "volumes"}
CONTAINER_FIELDS = {
    "name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "resources",
    "securityContext", "volumeMounts",
}  # fmt: skip
UNITS = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}


@dataclass
class Node:
    """The pieces a node would have: the API server to reach, its CA, where pods live."""

    kube: kubeapi.Cluster
    server_host: str
    server_port: int
    ca_cert: Path
    scratch: Path
    hosts: dict[str, str] = field(default_factory=dict)
    """Cluster DNS names (`pushgateway.monitoring.svc`) and the address serving them."""


@dataclass(frozen=True)
class Exited:
    """How the container ended."""

    code: int
    stdout: str
    stderr: str
    volumes: Path
    """Each emptyDir's folder on this machine, by volume name (what the job left there)."""


def pod_from_cron_job(cron_job: dict[str, Any]) -> dict[str, Any]:
    """The pod spec a Job of this CronJob starts, refusing fields this module cannot run."""
    spec: dict[str, Any] = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    _known(spec, POD_FIELDS, "pod")
    for container in spec["containers"]:
        _known(container, CONTAINER_FIELDS, f"container {container['name']}")
    for volume in spec.get("volumes", []):
        _known(volume, {"name", "emptyDir"}, f"volume {volume['name']}")
    return spec


def _known(found: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(found) - known)
    if unknown:
        raise NotImplementedError(f"{where}: tests/image/kubelet.py does not run {unknown}")


def create_pod(node: Node, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The Pod object (as its Job would create it): the token is bound to it."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
    created: dict[str, Any] = node.kube.request(
        "POST", f"/api/v1/namespaces/{namespace}/pods", body=pod
    )
    return created


def run(
    node: Node, spec: dict[str, Any], pod: dict[str, Any], image: str, timeout: float
) -> Exited:
    """Run the one container of `spec` (from dist/) for `pod` (the created Pod object: its
    name, namespace and uid) with podman, until it exits or `timeout` seconds pass."""
    meta = pod["metadata"]
    (container,) = spec["containers"]
    folder = Path(tempfile.mkdtemp(prefix=f"{meta['name']}-", dir=node.scratch))
    argv = [
        "podman", "run", "--rm", "--name", meta["name"], "--pull=never",
        "--network=host", "--hostname", meta["name"],
        *_security(spec.get("securityContext", {}), container.get("securityContext", {})),
        *_volumes(folder, spec.get("volumes", []), container.get("volumeMounts", [])),
        "--volume", f"{_service_account(node, meta, spec, folder)}:{TOKEN_DIR}:ro",
        "--env-file", str(_env_file(node, meta["namespace"], container, folder)),
        *_limits(container.get("resources", {})),
        *(f"--add-host={name}:{address}" for name, address in sorted(node.hosts.items())),
        *_entrypoint(container), image, *container.get("args", []),
    ]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        subprocess.run(["podman", "rm", "--force", meta["name"]], capture_output=True, check=False)
        raise
    return Exited(done.returncode, done.stdout, done.stderr, folder / "volumes")


def _security(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    merged = {**pod, **container}
    user = merged.get("runAsUser")
    if merged.get("runAsNonRoot") and not user:
        raise ValueError("runAsNonRoot without a non-zero runAsUser: the kubelet would refuse")
    flags = [f"--user={user}"] if user is not None else []
    if merged.get("readOnlyRootFilesystem"):
        flags += ["--read-only", "--read-only-tmpfs=false"]
    if merged.get("allowPrivilegeEscalation") is False:
        flags.append("--security-opt=no-new-privileges")
    flags += [f"--cap-drop={cap}" for cap in merged.get("capabilities", {}).get("drop", [])]
    profile = merged.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if profile != "RuntimeDefault":
        raise NotImplementedError(f"seccompProfile {profile}: only RuntimeDefault is run here")
    return flags


def _volumes(
    folder: Path, volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]
) -> list[str]:
    """Each emptyDir as a fresh folder, world-writable as the kubelet makes it."""
    flags = []
    by_name = {v["name"]: v for v in volumes}
    for mount in mounts:
        if "emptyDir" not in by_name[mount["name"]]:
            raise NotImplementedError(f"volume {mount['name']}: only emptyDir is run here")
        host = folder / "volumes" / mount["name"]
        host.mkdir(parents=True)
        host.chmod(0o777)
        flags += ["--volume", f"{host}:{mount['mountPath']}:rw"]
    return flags


def _service_account(node: Node, meta: dict[str, Any], spec: dict[str, Any], folder: Path) -> Path:
    """token, ca.crt and namespace, as the kubelet projects them (token from TokenRequest)."""
    name = spec["serviceAccountName"]
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "expirationSeconds": TOKEN_SECONDS,
            "boundObjectRef": {
                "apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"],
            },
        },
    }  # fmt: skip
    path = f"/api/v1/namespaces/{meta['namespace']}/serviceaccounts/{name}/token"
    answer = node.kube.request("POST", path, body=request)
    mount = folder / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text(answer["status"]["token"])
    (mount / "ca.crt").write_bytes(node.ca_cert.read_bytes())
    (mount / "namespace").write_text(meta["namespace"])
    for file in mount.iterdir():
        file.chmod(0o644)  # readable by the container's user, as the kubelet's defaultMode
    return mount


def _env_file(node: Node, namespace: str, container: dict[str, Any], folder: Path) -> Path:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= _secret(node, namespace, source["secretRef"]["name"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = _secret(node, namespace, ref["name"])[ref["key"]]
    env["KUBERNETES_SERVICE_HOST"] = node.server_host
    env["KUBERNETES_SERVICE_PORT"] = str(node.server_port)
    path = folder / "env"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        for name, value in env.items():
            if "\n" in value:
                raise ValueError(f"env {name}: a newline cannot pass through podman's env file")
            out.write(f"{name}={value}\n")
    return path


def _secret(node: Node, namespace: str, name: str) -> dict[str, str]:
    secret = node.kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def _limits(resources: dict[str, Any]) -> list[str]:
    memory = resources.get("limits", {}).get("memory")
    if memory is None:
        return []
    number, unit = memory.rstrip("KMGi"), memory[len(memory.rstrip("KMGi")) :]
    if unit not in UNITS:
        raise NotImplementedError(f"memory limit {memory}: only Ki, Mi and Gi are run here")
    return [f"--memory={int(number) * UNITS[unit]}"]


def _entrypoint(container: dict[str, Any]) -> list[str]:
    command = container.get("command")
    return [f"--entrypoint={json.dumps(command)}"] if command else []
