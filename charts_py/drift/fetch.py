"""The only I/O of drift: desired state from git, live state from a cluster or a dump."""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import queue
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from charts_py import contract, gitrepo, kinds, kubeapi, provenance, yamlio
from charts_py.drift import mask, parse
from charts_py.drift.model import GitSource
from charts_py.errors import (
    ClusterUnreachable,
    ConfigError,
    Forbidden,
    RetryableApiError,
    UnknownKind,
)
from charts_py.objectref import Key, ObjectRef, group_of

MAX_IN_FLIGHT = 8


@dataclass(frozen=True, kw_only=True)
class Desired:
    """dist/<env>/<cluster> at one commit, plus the environment file at the same commit."""

    git: GitSource
    cluster: str
    objects: list[dict[str, Any]]
    environment_text: str | None
    provenance: bytes | None = None
    """The provenance side file synth wrote beside the cluster folder (None before it did)."""
    team_texts: dict[str, str] = field(default_factory=dict)
    """The environment's team files at the same commit, by repository path: the lines of
    the sources they supply."""


@dataclass
class Live:
    """What the cluster holds, by identity; kinds that could not be read, with the reason."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    unserved: set[tuple[str, str]] = field(default_factory=set)
    unsearched: set[str] = field(default_factory=set)
    """Kinds whose extra objects outside the managed namespaces RBAC kept us from seeking."""


@dataclass(frozen=True)
class Place:
    """Where the desired state is: one cluster's folder at one commit. Known before any
    file is read, so reading live state can start first."""

    repo: gitrepo.Repo
    git: GitSource
    env: str
    cluster: str


@dataclass(frozen=True)
class Tree:
    """The desired state's files at that commit, still as bytes."""

    place: Place
    files: dict[str, bytes]  # repository path -> content, of the cluster's manifests
    environment_text: str | None
    provenance: bytes | None
    team_texts: dict[str, str] = field(default_factory=dict)


def desired(
    repo_path: Path | None,
    ref: str,
    dist: str,
    env: str,
    cluster: str | None,
    parser: parse.Parser | None = None,
) -> Desired:
    """Read the desired state from git (never the working tree)."""
    return parsed(tree(place(repo_path, ref, dist, env, cluster)), parser)


def place(repo_path: Path | None, ref: str, dist: str, env: str, cluster: str | None) -> Place:
    """The commit `ref` names and the cluster folder under `dist/env` (the only one, when
    `cluster` is None)."""
    repo = gitrepo.open_repo(repo_path)
    commit = gitrepo.resolve(repo, ref)
    folder = f"{dist}/{env}"
    clusters = gitrepo.folders(repo, commit, folder)
    if not clusters:
        gitrepo.read_tree(repo, commit, folder)  # says why when the folder is absent
    if cluster is None and len(clusters) != 1:
        raise ConfigError(folder, "--cluster", f"required: one of {clusters}")
    cluster = cluster or clusters[0]
    if cluster not in clusters:
        raise ConfigError(folder, "--cluster", f"unknown cluster {cluster!r} ({clusters})")
    return Place(repo, GitSource(ref, commit, f"{folder}/{cluster}"), env, cluster)


def tree(where: Place) -> Tree:
    """The cluster's manifests and the environment file, from git's object database."""
    folder, commit = where.git.path, where.git.commit
    files = gitrepo.read_tree(where.repo, commit, folder)
    manifests = {
        f"{folder}/{p}": data for p, data in files.items() if p.endswith((".yaml", ".yml"))
    }
    text = gitrepo.read_file(where.repo, commit, f"environments/{where.env}.yaml")
    side = gitrepo.read_file(where.repo, commit, f"{folder}{provenance.SUFFIX}")
    teams = _team_texts(where.repo, commit, f"environments/{where.env}")
    return Tree(where, manifests, text.decode() if text is not None else None, side, teams)


def _team_texts(repo: gitrepo.Repo, commit: str, folder: str) -> dict[str, str]:
    """The team files beside the environment file (`environments/<env>/<team>.yaml`)."""
    names = gitrepo.list_files(repo, commit, [folder], recursive=False)
    found = gitrepo.read_files(repo, commit, [n for n in names if n.endswith(".yaml")])
    return {path: data.decode("utf-8") for path, data in found.items()}


def parsed(files: Tree, parser: parse.Parser | None = None) -> Desired:
    """The desired state's objects, parsed (bad YAML is a ConfigError naming the file);
    `parser`, when given, shares the work with its worker."""
    return assembled(files, (parser or parse.Parser(share=False)).objects(named(files)))


def named(files: Tree) -> list[tuple[str, bytes]]:
    """The manifests in path order, as `parse` takes them."""
    return sorted(files.files.items())


def assembled(files: Tree, objects: list[dict[str, Any]]) -> Desired:
    """The desired state, from its files and their objects (parsed in `named` order)."""
    place = files.place
    return Desired(
        git=place.git,
        cluster=place.cluster,
        objects=objects,
        environment_text=files.environment_text,
        provenance=files.provenance,
        team_texts=files.team_texts,
    )


KNOWN_KINDS = frozenset((k.api_version, k.kind) for k in kinds.MESH_KINDS)
"""Listed on every run, desired or not, so extra objects of any kind we emit are found."""


class LiveReader(Protocol):
    """What reading live state needs of a server (`kubeapi.Cluster`)."""

    def served(self, api_version: str, kind: str) -> kubeapi.Resource: ...

    def list(
        self,
        resource: kubeapi.Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What meshops manages in one cluster, which is all drift reads: the namespaces and
    cluster-scoped names of git's objects, and the labels that mark extra objects."""

    env: str
    cluster: str
    namespaces: frozenset[str]
    cluster_names: frozenset[tuple[str, str, str]]  # (group, kind, name)
    wanted: frozenset[Key]

    def unfound(self, kind: tuple[str, str], found: list[dict[str, Any]]) -> set[str]:
        """Namespaces holding git's objects of `kind` (apiVersion, kind) that `found` lacks:
        their labels were edited away, so only an unfiltered LIST there can find them."""
        ours = self._by_kind.get((kind[0].rpartition("/")[0], kind[1]))
        if not ours:
            return set()
        have = {ObjectRef.of(o).key for o in found}
        return {key[2] for key in ours if key[2] and key not in have}

    @functools.cached_property
    def _by_kind(self) -> dict[tuple[str, str], list[Key]]:
        """git's objects' keys by (group, kind): asked once per kind listed."""
        out: dict[tuple[str, str], list[Key]] = {}
        for key in self.wanted:
            out.setdefault(key[:2], []).append(key)
        return out

    @classmethod
    def of(cls, objects: Iterable[dict[str, Any]], env: str, cluster: str) -> Scope:
        refs = [ObjectRef.of(o) for o in objects]
        namespaces = {r.namespace for r in refs if r.namespace}
        namespaces |= {r.name for r in refs if r.kind == "Namespace" and not r.group}
        names = {(r.group, r.kind, r.name) for r in refs if not r.namespace}
        return cls(
            env=env,
            cluster=cluster,
            namespaces=frozenset(namespaces),
            cluster_names=frozenset(names),
            wanted=frozenset(r.key for r in refs),
        )

    @property
    def selector(self) -> str:
        return selector(self.env, self.cluster)

    def keep(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """What judging needs of a page item: git's objects and ours, masked; nothing else."""
        if ObjectRef.of(item).key in self.wanted or contract.is_ours(item, self.env, self.cluster):
            return mask.secret(item)
        return None


def selector(env: str, cluster: str) -> str:
    """The label selector of meshops's objects in one (environment, cluster)."""
    return ",".join(
        f"{k}={v}"
        for k, v in (
            (contract.MANAGED_BY, contract.MANAGED_BY_VALUE),
            (contract.ENVIRONMENT, env),
            (contract.CLUSTER, cluster),
        )
    )


class Labelled:
    """The label-selected LIST of every kind meshops emits, started as soon as the
    environment and cluster are known: it needs nothing from git's objects, so it runs while
    they are parsed (the API server works meanwhile). Each LIST, as it finishes, joins a
    stream (`arrived`) that judging consumes, and `from_cluster` uses its answers instead of
    asking again. Its pool is `from_cluster`'s too, so no more than MAX_IN_FLIGHT requests
    are ever in flight."""

    def __init__(self, reader: LiveReader, env: str, cluster: str) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT)
        self._finished: queue.SimpleQueue[Listed] = queue.SimpleQueue()
        labels = selector(env, cluster)
        self._answers: dict[tuple[str, str], Answer] = {
            kind: self._pool.submit(self._listed, reader, kind, labels)
            for kind in sorted(KNOWN_KINDS)
        }
        self._unread = len(self._answers)

    def __enter__(self) -> Labelled:
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)  # on bad YAML: ask no more

    def arrived(self, *, wait: bool = False) -> Iterator[Listed]:
        """The LISTs finished since the last call, in the order they finished; with `wait`,
        every one still running too, each as it finishes."""
        while self._unread:
            try:
                listed = self._finished.get(block=wait)
            except queue.Empty:
                return
            self._unread -= 1
            yield listed

    def _listed(
        self, reader: LiveReader, kind: tuple[str, str], labels: str
    ) -> list[dict[str, Any]]:
        items = None
        try:
            items = _labelled(reader, kind, labels)
            return items
        finally:  # a failed LIST arrives too (as None): from_cluster asks again, says why
            self._finished.put(Listed((group_of(kind[0]), kind[1]), items))


@dataclass(frozen=True)
class Listed:
    """One kind's label-selected LIST, finished: every item, masked, or None if it failed."""

    group_kind: tuple[str, str]
    items: list[dict[str, Any]] | None


Answer = concurrent.futures.Future[list[dict[str, Any]]]


def _labelled(reader: LiveReader, kind: tuple[str, str], labels: str) -> list[dict[str, Any]]:
    # Every item carries our labels, so it is ours: kept (masked), as Scope.keep would.
    return reader.list(reader.served(*kind), label_selector=labels, keep=mask.secret)


def from_cluster(
    reader: LiveReader,
    wanted: Iterable[tuple[str, str]],
    scope: Scope,
    labelled: Labelled | None = None,
) -> Live:
    """LISTs proportional to what meshops manages, a bounded number in flight.

    Namespaced kinds: one cluster-wide LIST by our labels finds ours anywhere; only where
    git's objects are not among them (labels edited away) is their namespace LISTed
    unfiltered, so a steady-state run reads each object once. Where RBAC forbids the
    cluster-wide LIST (the nightly job's Roles), every managed namespace is LISTed
    unfiltered instead, and a note
    says extra objects elsewhere were not sought. Cluster-scoped kinds: by our labels, and
    by name for git's objects. Pages stream through `scope.keep`, so foreign objects are
    never held. A kind the server does not serve is noted (`unserved`); a kind that cannot
    be read is an error, never skipped. `labelled`, when given, has already started the
    label-selected LISTs for the same scope.
    """
    live = Live()
    with contextlib.ExitStack() as stack:
        if labelled is None:
            pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT))
            answers: dict[tuple[str, str], Answer] = {}
        else:
            pool, answers = labelled._pool, labelled._answers
        # FIFO: every started label-selected LIST is taken by a worker before any of these,
        # so a worker waiting on one never waits on a task still queued behind it.
        futures = {
            pool.submit(_read_kind, reader, kind, scope, answers.get(kind)): kind
            for kind in sorted(set(wanted))
        }
        for future in concurrent.futures.as_completed(futures):
            api_version, kind = futures[future]
            group = api_version.rpartition("/")[0]
            try:
                items, note = future.result()
            except UnknownKind:
                live.unserved.add((group, kind))
                continue
            except (Forbidden, ClusterUnreachable, RetryableApiError) as exc:
                live.errors[(group, kind)] = str(exc)
                continue
            for item in items:
                live.objects[ObjectRef.of(item).key] = item
            if note:
                live.unsearched.add(note)
    return live


def _read_kind(
    reader: LiveReader, kind: tuple[str, str], scope: Scope, answer: Answer | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Every object of one kind judging needs, and the kind's name if the label-selected
    search outside the managed namespaces was forbidden (`answer`: that search, started
    early)."""
    resource = reader.served(*kind)

    def ours() -> list[dict[str, Any]]:
        if answer is not None:
            return list(answer.result())
        return reader.list(resource, label_selector=scope.selector, keep=scope.keep)

    if not resource.namespaced:
        items = ours()
        group = kind[0].rpartition("/")[0]
        found = {o["metadata"]["name"] for o in items}
        for g, k, name in sorted(scope.cluster_names):
            if (g, k) == (group, kind[1]) and name not in found:
                items += reader.list(
                    resource, field_selector=f"metadata.name={name}", keep=scope.keep
                )
        return items, None
    try:  # ours anywhere, by our labels; then where git's objects were not among them
        items = ours()
        namespaces, note = scope.unfound(kind, items), None
    except Forbidden:  # Roles only: extra objects can be sought in the managed namespaces
        items, namespaces, note = [], set(scope.namespaces), kind[1]
    for namespace in sorted(namespaces):
        items += reader.list(resource, namespace=namespace, keep=scope.keep)
    return items, note


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
