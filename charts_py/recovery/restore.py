"""`meshops restore`: re-apply a backup (or git's desired state) the way Argo CD syncs, then
let drift say whether the cluster now matches git.

Which backup `--from` names (one rule, checked in this order):
- `git`: no backup; `dist/<env>/<cluster>` at HEAD of the repository.
- `latest`: the newest `backup-*` folder for env/cluster at the tip of the snapshot branch.
- `<env>/<cluster>/backup-<time>`: that folder at the tip of the snapshot branch.
- anything else is a git revision (commit, branch, tag) of the snapshot branch's history:
  the newest backup folder for env/cluster in that commit.
The objects are applied by `charts_py.apply` (sync wave, field manager argocd-controller);
Secrets are never in a backup and are named, not restored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import apply, contract, gitrepo, kubeapi, yamlio
from charts_py.drift import fetch, mask, run
from charts_py.drift.model import Report
from charts_py.errors import BackupNotFound, ConfigError, CorruptBackup
from charts_py.recovery import layout, secrets

GIT, LATEST = "git", "latest"


@dataclass(frozen=True, kw_only=True)
class Options:
    """What to restore from and where to (the CLI's options)."""

    env: str
    source: str
    cluster: str | None = None
    repo: Path | None = None
    kubeconfig: str | None = None
    context: str | None = None
    dry_run: bool = False
    branch: str = contract.SNAPSHOT_BRANCH
    dist: str = "dist"


@dataclass(frozen=True)
class Source:
    """The objects to apply, where they came from, and the Secrets they need."""

    description: str
    cluster: str
    objects: list[dict[str, Any]]
    secrets: tuple[secrets.Needed, ...]


@dataclass(frozen=True)
class Outcome:
    """What the restore applied and drift's verdict afterwards (None after a dry run)."""

    source: Source
    server: str
    summary: apply.Summary
    report: Report | None

    @property
    def exit_code(self) -> int:
        """Drift's exit code (0 in sync, 1 drift remains, 2 incomplete); 0 after a dry run."""
        return 0 if self.report is None else self.report.exit_code()


def restore(options: Options, progress: Callable[[str], None] = lambda _: None) -> Outcome:
    """Select, apply in sync order, verify with drift."""
    source = select(options)
    cluster = kubeapi.Cluster.connect(options.kubeconfig, options.context)
    summary = apply.apply(cluster, source.objects, dry_run=options.dry_run, progress=progress)
    report = None
    if not options.dry_run:
        checked = run.Options(
            env=options.env,
            cluster=source.cluster,
            repo=options.repo,
            dist=options.dist,
            kubeconfig=options.kubeconfig,
            context=options.context,
        )
        report = run.run(checked)[0]
    return Outcome(source, cluster.server, summary, report)


def select(options: Options) -> Source:
    """The objects `--from` names (see the module docstring for the rule)."""
    if options.source == GIT:
        return from_git(options)
    repo = gitrepo.open_repo(options.repo)
    path = layout.parse_path(options.source)
    if path is not None:
        env, cluster, folder = path
        if env != options.env or (options.cluster or cluster) != cluster:
            wanted = f"{options.env}/{options.cluster or '*'}"
            raise BackupNotFound(f"--from {options.source}: not a backup of {wanted}")
        commit = _branch_tip(repo, options.branch)
    else:
        ref = f"refs/heads/{options.branch}" if options.source == LATEST else options.source
        commit = _branch_tip(repo, options.branch) if options.source == LATEST else _rev(repo, ref)
        cluster = options.cluster or _only_cluster(repo, commit, options.env)
        name = layout.newest(gitrepo.folders(repo, commit, f"{options.env}/{cluster}"))
        if name is None:
            raise BackupNotFound(
                f"--from {options.source}: no backup of {options.env}/{cluster} at "
                f"{commit[:12]}; take one with `meshops backup`"
            )
        folder = f"{options.env}/{cluster}/{name}"
    return read_backup(repo, commit, folder, options.env, cluster)


def from_git(options: Options) -> Source:
    """`dist/<env>/<cluster>` at HEAD: what Argo CD would sync."""
    desired = fetch.desired(options.repo, "HEAD", options.dist, options.env, options.cluster)
    description = f"git {desired.git.path} at {desired.git.commit[:12]}"
    needed = tuple(secrets.referenced(desired.objects))
    return Source(description, desired.cluster, desired.objects, needed)


def read_backup(repo: gitrepo.Repo, commit: str, folder: str, env: str, cluster: str) -> Source:
    """The objects of one backup folder, checked against its manifest."""
    try:
        files = gitrepo.read_tree(repo, commit, folder)
    except ConfigError:
        raise BackupNotFound(f"{folder}: no such backup at {commit[:12]}") from None
    manifest = layout.read_manifest(folder, files.pop(layout.MANIFEST, None), env, cluster)
    listed = [_listed_file(folder, e) for e in manifest["objects"]]
    unlisted = sorted(set(files) - set(listed))
    if unlisted:
        raise CorruptBackup(f"{folder}/{unlisted[0]}: not listed in {layout.MANIFEST}")
    objects = [_object(f"{folder}/{name}", files.get(name)) for name in listed]
    needed = [_needed(folder, s) for s in manifest.get("secrets") or []]
    description = f"backup {folder} ({commit[:12]})"
    return Source(
        description, cluster, objects, tuple(secrets.merge(needed, secrets.referenced(objects)))
    )


def _listed_file(folder: str, entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        raise CorruptBackup(f"{folder}/{layout.MANIFEST}: objects: entry without a file: {entry}")
    name: str = entry["file"]
    return name


def _object(where: str, data: bytes | None) -> dict[str, Any]:
    """One backed-up object; a missing or malformed file, or any Secret data, is corruption."""
    if data is None:
        raise CorruptBackup(f"{where}: listed in {layout.MANIFEST} but missing")
    try:
        obj = yamlio.load(data)
    except yaml.YAMLError as exc:
        raise CorruptBackup(f"{where}: malformed YAML: {exc}") from None
    if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
        raise CorruptBackup(f"{where}: not a Kubernetes object (apiVersion, kind, metadata)")
    if obj["kind"] == "Secret" or mask.PREFIX.encode() in data:
        raise CorruptBackup(f"{where}: holds Secret data; a backup never does, refusing it")
    return obj


def _needed(folder: str, item: Any) -> secrets.Needed:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise CorruptBackup(f"{folder}/{layout.MANIFEST}: secrets: malformed entry {item}")
    return secrets.Needed(str(item.get("namespace", "")), item["name"], str(item.get("reason")))


def _branch_tip(repo: gitrepo.Repo, branch: str) -> str:
    try:
        return gitrepo.resolve(repo, f"refs/heads/{branch}")
    except ConfigError:
        raise BackupNotFound(
            f"no backup: branch {branch} does not exist; take one with `meshops backup`"
        ) from None


def _rev(repo: gitrepo.Repo, ref: str) -> str:
    try:
        return gitrepo.resolve(repo, ref)
    except ConfigError as exc:
        raise BackupNotFound(f"--from {ref}: {exc.reason}") from None


def _only_cluster(repo: gitrepo.Repo, commit: str, env: str) -> str:
    """The one cluster of `env` with backups at `commit` (else --cluster is required)."""
    clusters = [
        c
        for c in gitrepo.folders(repo, commit, env)
        if layout.newest(gitrepo.folders(repo, commit, f"{env}/{c}"))
    ]
    if len(clusters) != 1:
        raise BackupNotFound(f"--cluster required: backups of {env} at {commit[:12]}: {clusters}")
    return clusters[0]
