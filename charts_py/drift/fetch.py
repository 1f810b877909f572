"""The only I/O of drift: desired state from git, live state from a cluster or a dump."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from charts_py import contract, gitrepo, kubeapi
from charts_py.constructs import kinds
from charts_py.drift import mask
from charts_py.drift.model import GitSource, ObjectRef
from charts_py.errors import ClusterUnreachable, ConfigError, Forbidden, UnknownKind

Key = tuple[str, str, str, str]
MAX_IN_FLIGHT = 8


@dataclass(frozen=True)
class Desired:
    """dist/<env>/<cluster> at one commit, plus the environment file at the same commit."""

    git: GitSource
    cluster: str
    objects: list[dict[str, Any]]
    environment_text: str | None


@dataclass
class Live:
    """What the cluster holds, by identity; kinds that could not be read, with the reason."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)


def desired(repo_path: Path | None, ref: str, dist: str, env: str, cluster: str | None) -> Desired:
    """Read the desired state from git (never the working tree)."""
    repo = gitrepo.open_repo(repo_path)
    commit = gitrepo.resolve(repo, ref)
    files = gitrepo.read_tree(repo, commit, f"{dist}/{env}")
    clusters = sorted({PurePosixPath(p).parts[0] for p in files if "/" in p})
    if cluster is None and len(clusters) != 1:
        raise ConfigError(f"{dist}/{env}", "--cluster", f"required: one of {clusters}")
    cluster = cluster or clusters[0]
    if cluster not in clusters:
        raise ConfigError(f"{dist}/{env}", "--cluster", f"unknown cluster {cluster!r} ({clusters})")
    objects = [
        _parse(f"{dist}/{env}/{p}", data)
        for p, data in sorted(files.items())
        if p.startswith(cluster + "/") and p.endswith((".yaml", ".yml"))
    ]
    env_files = _optional(repo, commit, "environments")
    text = env_files.get(f"{env}.yaml")
    source = GitSource(ref, commit, f"{dist}/{env}/{cluster}")
    return Desired(source, cluster, objects, text.decode() if text else None)


def _optional(repo: Any, commit: str, path: str) -> dict[str, bytes]:
    try:
        return gitrepo.read_tree(repo, commit, path)
    except ConfigError:
        return {}


def _parse(name: str, data: bytes) -> dict[str, Any]:
    try:
        obj = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(name, "", f"malformed YAML: {exc}") from None
    if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
        raise ConfigError(name, "", "not a Kubernetes object (apiVersion, kind, metadata)")
    return obj


def ours_selector(env: str, cluster: str) -> str:
    """The label selector of every object meshops generated for (env, cluster)."""
    return (
        f"{contract.MANAGED_BY}={contract.MANAGED_BY_VALUE},"
        f"{contract.ENVIRONMENT}={env},{contract.CLUSTER}={cluster}"
    )


def from_cluster(
    cluster: kubeapi.Cluster, wanted: Iterable[dict[str, Any]], env: str, cluster_name: str
) -> Live:
    """One paginated LIST per desired kind, one LIST by our labels per other kind we emit."""
    desired_kinds = {(o["apiVersion"], o["kind"]) for o in wanted}
    other = {(k.api_version, k.kind) for k in kinds.MESH_KINDS} - desired_kinds
    jobs: list[tuple[tuple[str, str], str | None]] = [(k, None) for k in sorted(desired_kinds)]
    jobs += [(kind, ours_selector(env, cluster_name)) for kind in sorted(other)]
    live = Live()
    with concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
        futures = {
            pool.submit(_list, cluster, kind, selector): (kind, selector) for kind, selector in jobs
        }
        for future in concurrent.futures.as_completed(futures):
            (api_version, kind), selector = futures[future]
            try:
                for item in future.result():
                    live.objects[ObjectRef.of(item).key] = item
            except (Forbidden, UnknownKind, ClusterUnreachable) as exc:
                if selector is None:  # an optional extra-object scan may not be served
                    live.errors[(api_version.rpartition("/")[0], kind)] = str(exc)
    return live


def _list(cluster: kubeapi.Cluster, kind: tuple[str, str], selector: str | None) -> list[Any]:
    resource = cluster.served(*kind)
    return [mask.secret(item) for item in cluster.list(resource, label_selector=selector)]


def from_dir(folder: Path) -> Live:
    """Live objects from a `kubectl get -o yaml` dump: files, multi-document files, Lists."""
    live = Live()
    files = (
        [folder]
        if folder.is_file()
        else sorted(folder.rglob("*.y*ml")) + sorted(folder.rglob("*.json"))
    )
    if not files:
        raise ConfigError(str(folder), "--live-dir", "no YAML or JSON files found")
    for file in files:
        try:
            docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, OSError) as exc:
            raise ConfigError(str(file), "--live-dir", f"cannot read: {exc}") from None
        for doc in docs:
            for item in _items(doc):
                live.objects[ObjectRef.of(item).key] = mask.secret(item)
    return live


def _items(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
        return [i for i in doc["items"] if isinstance(i, dict) and "metadata" in i]
    return [doc] if "metadata" in doc and "kind" in doc else []
