"""The only I/O of drift: desired state from git, live state from a cluster or a dump."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from charts_py import gitrepo, kubeapi, yamlio
from charts_py.constructs import kinds
from charts_py.drift import mask
from charts_py.drift.model import GitSource, ObjectRef
from charts_py.errors import (
    ClusterUnreachable,
    ConfigError,
    Forbidden,
    RetryableApiError,
    UnknownKind,
)

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
    unserved: set[tuple[str, str]] = field(default_factory=set)


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
        obj = yamlio.load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(name, "", f"malformed YAML: {exc}") from None
    if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
        raise ConfigError(name, "", "not a Kubernetes object (apiVersion, kind, metadata)")
    return obj


KNOWN_KINDS = frozenset((k.api_version, k.kind) for k in kinds.MESH_KINDS)
"""Listed on every run, desired or not, so extra objects of any kind we emit are found."""


def from_cluster(cluster: kubeapi.Cluster, wanted: Iterable[tuple[str, str]]) -> Live:
    """One paginated LIST per kind, all namespaces, a bounded number in flight.

    Unfiltered on purpose: an object whose labels were edited away is still found, and extra
    objects are told apart by their labels afterwards. A kind the server does not serve is
    noted (`unserved`); a kind that cannot be read is an error (never silently skipped).
    """
    live = Live()
    with concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
        futures = {pool.submit(_list, cluster, kind): kind for kind in sorted(set(wanted))}
        for future in concurrent.futures.as_completed(futures):
            api_version, kind = futures[future]
            group = api_version.rpartition("/")[0]
            try:
                for item in future.result():
                    live.objects[ObjectRef.of(item).key] = item
            except UnknownKind:
                live.unserved.add((group, kind))
            except (Forbidden, ClusterUnreachable, RetryableApiError) as exc:
                live.errors[(group, kind)] = str(exc)
    return live


def merge(first: Live, second: Live) -> Live:
    """Both LIST results as one."""
    return Live(
        {**first.objects, **second.objects},
        {**first.errors, **second.errors},
        first.unserved | second.unserved,
    )


def _list(cluster: kubeapi.Cluster, kind: tuple[str, str]) -> list[Any]:
    resource = cluster.served(*kind)
    return [mask.secret(item) for item in cluster.list(resource)]


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
            docs = list(yamlio.load_all(file.read_text(encoding="utf-8")))
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
