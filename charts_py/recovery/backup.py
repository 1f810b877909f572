"""`meshops backup`: the live state of everything meshops manages in one (env, cluster),
cleaned for re-apply and committed to the snapshot branch (practices 11 and 14).

What is managed: the objects of `dist/<env>/<cluster>` at HEAD, plus every live object that
carries our labels (managed-by, environment, cluster) - the same set drift judges, read the
same way (one paginated LIST per kind). Secrets are never written: they are LISTed by label
only to be named in the manifest, and any masked value that reaches a file is refused.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import contract, gitrepo, kubeapi
from charts_py.drift import fetch, mask, snapshot
from charts_py.errors import ClusterUnreachable, Forbidden, RetryableApiError, SnapshotError
from charts_py.objectref import Key, ObjectRef, group_label
from charts_py.recovery import clean, layout, secrets

SECRET = ("v1", "Secret")


@dataclass(frozen=True, kw_only=True)
class Options:
    """What to back up and where to commit it (the CLI's options)."""

    env: str
    cluster: str | None = None
    repo: Path | None = None
    kubeconfig: str | None = None
    context: str | None = None
    branch: str = contract.SNAPSHOT_BRANCH
    push: str | None = None
    dist: str = "dist"


@dataclass(frozen=True, kw_only=True)
class Taken:
    """A committed backup: where it is and what it holds."""

    commit: str
    folder: str
    objects: int
    missing: tuple[str, ...]
    secrets: tuple[secrets.Needed, ...]


def take(options: Options, *, now: datetime.datetime | None = None) -> Taken:
    """LIST, clean, commit; raise rather than commit a backup that misses a readable kind."""
    when = now or datetime.datetime.now(datetime.UTC)
    desired = fetch.desired(options.repo, "HEAD", options.dist, options.env, options.cluster)
    server = kubeapi.Cluster.connect(options.kubeconfig, options.context)
    live = read_live(server, desired, options.env)
    keys = {ObjectRef.of(o).key: o for o in desired.objects}
    managed = select(live.objects, keys, options.env, desired.cluster)
    missing = [
        str(ObjectRef.of(o))
        for k, o in sorted(keys.items())
        if k not in live.objects and o["kind"] != "Secret"
    ]
    in_git = [
        secrets.Needed(r.namespace, r.name, "in git; Secrets are never backed up")
        for r in (ObjectRef.of(o) for o in desired.objects if o["kind"] == "Secret")
    ]
    labelled = labelled_secrets(server, options.env, desired.cluster)
    files, needed = contents(managed, [*in_git, *labelled])
    entries = [entry(ObjectRef.of(o), keys) for o in managed if o["kind"] != "Secret"]
    manifest = {
        "schemaVersion": layout.SCHEMA_VERSION,
        "env": options.env,
        "cluster": desired.cluster,
        "createdAt": when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "server": server.server,
        "git": {"commit": desired.git.commit, "path": desired.git.path},
        "objects": entries,
        "missing": missing,
        "secrets": [{"namespace": s.namespace, "name": s.name, "reason": s.reason} for s in needed],
    }
    files[layout.MANIFEST] = layout.manifest_bytes(manifest)
    folder = layout.folder(options.env, desired.cluster, when)
    sha = _commit(options, folder, files, desired.git.commit)
    return Taken(
        commit=sha,
        folder=folder,
        objects=len(entries),
        missing=tuple(missing),
        secrets=tuple(needed),
    )


def read_live(server: kubeapi.Cluster, desired: fetch.Desired, env: str) -> fetch.Live:
    """Drift's LISTs (every kind meshops emits, and git's); Secrets are not read here."""
    kinds = fetch.KNOWN_KINDS | {(o["apiVersion"], o["kind"]) for o in desired.objects}
    scope = fetch.Scope.of(desired.objects, env, desired.cluster)
    live = fetch.from_cluster(server, kinds - {SECRET}, scope)
    if live.errors:
        (group, kind), reason = sorted(live.errors.items())[0]
        raise SnapshotError(
            f"cannot LIST {kind} ({group_label(group)}): {reason}; no backup written"
        )
    return live


def select(
    live: dict[Key, dict[str, Any]],
    desired: dict[Key, dict[str, Any]],
    env: str,
    cluster: str,
) -> list[dict[str, Any]]:
    """Live objects that are in git or carry our labels, in identity order."""
    return [
        obj
        for key, obj in sorted(live.items())
        if key in desired or contract.is_ours(obj, env, cluster)
    ]


def labelled_secrets(server: kubeapi.Cluster, env: str, cluster: str) -> list[secrets.Needed]:
    """Our labelled Secrets, by name only (masked as they are read, values dropped at once)."""
    selector = (
        f"{contract.MANAGED_BY}={contract.MANAGED_BY_VALUE},"
        f"{contract.ENVIRONMENT}={env},{contract.CLUSTER}={cluster}"
    )
    try:
        items = server.list(server.resource(*SECRET), label_selector=selector)
        refs = sorted(ObjectRef.of(mask.secret(item)) for item in items)
    except (Forbidden, ClusterUnreachable, RetryableApiError) as exc:
        raise SnapshotError(f"cannot LIST Secrets to name them: {exc}; no backup written") from None
    return [secrets.Needed(r.namespace, r.name, "labelled by meshops; not backed up") for r in refs]


def contents(
    managed: list[dict[str, Any]], labelled: Iterable[secrets.Needed]
) -> tuple[dict[str, bytes], list[secrets.Needed]]:
    """One cleaned YAML per non-Secret object, and the Secrets to name in the manifest."""
    scaled = clean.autoscaled(managed)
    skipped = [
        secrets.Needed(r.namespace, r.name, "labelled by meshops; not backed up")
        for r in (ObjectRef.of(o) for o in managed if o["kind"] == "Secret")
    ]
    kept = [clean.for_reapply(o, scaled) for o in managed if o["kind"] != "Secret"]
    files: dict[str, bytes] = {}
    for obj in kept:
        ref = ObjectRef.of(obj)
        name = snapshot.file_name(ref)
        if name in files:
            raise SnapshotError(f"{ref}: two objects would be written to {name}")
        files[name] = safe_yaml(ref, obj)
    return files, secrets.merge(skipped, labelled, secrets.referenced(kept))


def safe_yaml(ref: ObjectRef, obj: dict[str, Any]) -> bytes:
    """The YAML of `obj`, refused if it is a Secret or holds a masked value (defence in depth:
    a Secret must never reach git, and a masked token would be restored as if it were data)."""
    snapshot.refuse_unmasked(ref, obj)
    text = yaml.safe_dump(obj, sort_keys=True, allow_unicode=True)
    if ref.kind == "Secret" or mask.PREFIX in text:
        raise SnapshotError(f"{ref}: holds Secret data; refusing to write it to a backup")
    return text.encode()


def entry(ref: ObjectRef, desired: dict[Key, dict[str, Any]]) -> dict[str, Any]:
    """The manifest line of one object; `inGit` false marks an extra (labelled, not in git)."""
    return {
        "apiVersion": ref.api_version,
        "kind": ref.kind,
        "namespace": ref.namespace,
        "name": ref.name,
        "file": snapshot.file_name(ref),
        "inGit": ref.key in desired,
    }


def _commit(options: Options, folder: str, files: dict[str, bytes], desired_commit: str) -> str:
    repo = gitrepo.open_repo(options.repo)
    message = f"meshops backup {folder}\n\ngit {desired_commit}\n"
    sha = gitrepo.commit_snapshot(repo, options.branch, folder, files, message)
    if options.push is None:
        return sha
    gitrepo.push(repo, options.push, options.branch)
    return gitrepo.resolve(repo, f"refs/heads/{options.branch}")
