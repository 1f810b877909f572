"""The whole GitOps loop on one machine: Argo CD syncing a repository into local clusters.

A hub control plane runs Argo CD (its Applications live there); each cluster of
`dist/<env>/<cluster>` gets a control plane of its own, registered in Argo CD under its
name. One API server per cluster, because two clusters' objects share names (shop/reviews
exists in dev-1 and prod-east alike): two Applications syncing into one server would
overwrite each other forever. The repository is served over git smart HTTP on 127.0.0.1,
and the generated bootstrap (dist/_bootstrap) is applied to the hub as it is, except that
the repository URL becomes the local one.

No nodes run anywhere, so no pod ever starts: Deployments stay Progressing, and only
objects without a health check (mesh configuration, Services, config maps) are Healthy.
That is what the sync waves are for: mesh configuration syncs before workloads and never
waits on their health.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import contract, kubeapi
from charts_py.cluster import argocd, controlplane, processes
from charts_py.errors import ClusterError

GIT_SERVER = "gitserver"
FOLDER = "gitops"
"""The sandbox's folder inside the local control plane's state folder."""
MANAGER = "meshops-sandbox"


@dataclass(frozen=True, kw_only=True)
class Sandbox:
    """A running sandbox, as recorded in `<state_dir>/sandbox.json`."""

    state_dir: str
    hub_kubeconfig: str
    repo: str
    """The served repository (a working tree or bare repository on this machine)."""
    repo_url: str
    clusters: dict[str, str]
    """Cluster name -> kubeconfig of its control plane."""
    git_pid: int

    @classmethod
    def load(cls, state_dir: Path) -> Sandbox | None:
        try:
            return cls(**json.loads((state_dir / "sandbox.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None


def clusters_in(dist: Path) -> list[str]:
    """The cluster folders the ApplicationSet's git generator finds (`dist/*/*`)."""
    return sorted(
        p.name for p in dist.glob("*/*") if p.is_dir() and p.parent.name != contract.BOOTSTRAP_DIR
    )


def up(state_dir: Path, repo: Path, hub_kubeconfig: Path, revision: str | None = None) -> Sandbox:
    """Serve `repo`, start a control plane per cluster of its dist/, Argo CD on the hub, and
    apply the bootstrap (its git revision replaced by `revision` if given: `HEAD` follows
    the branch checked out in `repo`); whatever started is stopped again if a step fails."""
    down(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _launch(state_dir, repo.resolve(), hub_kubeconfig, revision)
    except BaseException:
        down(state_dir)
        raise


def _launch(state_dir: Path, repo: Path, hub_kubeconfig: Path, revision: str | None) -> Sandbox:
    port = controlplane.free_port()
    argv = [sys.executable, "-m", "charts_py.cluster.gitserver", str(repo.parent), str(port)]
    git = processes.start(state_dir, GIT_SERVER, argv)
    url = f"http://127.0.0.1:{port}/{repo.name}"
    clusters: dict[str, str] = {}
    sandbox = Sandbox(
        state_dir=str(state_dir),
        hub_kubeconfig=str(hub_kubeconfig),
        repo=str(repo),
        repo_url=url,
        clusters=clusters,
        git_pid=git.pid,
    )
    names = clusters_in(repo / "dist")
    _progress(f"a control plane for each cluster: {', '.join(names)}")
    _record(sandbox)
    # In parallel: each start mostly waits for its API server and its CRDs to settle.
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        started = pool.map(lambda n: controlplane.up(state_dir / "clusters" / n), names)
        clusters.update({n: c.kubeconfig for n, c in zip(names, started, strict=True)})
    _record(sandbox)
    hub = kubeapi.Cluster.connect(str(hub_kubeconfig))
    argocd.install(hub)
    for name, kubeconfig in clusters.items():
        argocd.register(hub, name, Path(kubeconfig))
    _progress("Argo CD (application-controller, repo-server, applicationset-controller, redis)")
    argocd.start(state_dir / "argocd", hub_kubeconfig)
    for obj in bootstrap(repo / "dist", url, revision):
        hub.apply(obj, field_manager=MANAGER)
    return sandbox


def bootstrap(dist: Path, repo_url: str, revision: str | None = None) -> list[dict[str, Any]]:
    """dist/_bootstrap's objects with this repository's URL (the one its ApplicationSets'
    git generators read) replaced by `repo_url`, and next to it the revision by `revision`
    if given; other sources (Helm chart repositories) stay as they are."""
    files = sorted((dist / contract.BOOTSTRAP_DIR).rglob("*.yaml"))
    objects = [o for f in files for o in yaml.safe_load_all(f.read_text()) if o]
    ours = {
        str(g["git"]["repoURL"])
        for obj in objects
        if obj.get("kind") == "ApplicationSet"
        for g in obj.get("spec", {}).get("generators", [])
        if "git" in g
    }
    if not ours:
        raise ClusterError(
            f"{dist / contract.BOOTSTRAP_DIR}: no ApplicationSet with a git generator"
        )
    return [_replaced(obj, ours, repo_url, revision) for obj in objects]


def _replaced(value: Any, old: set[str], new: str, revision: str | None) -> Any:
    if isinstance(value, dict):
        out = {k: _replaced(v, old, new, revision) for k, v in value.items()}
        if revision and value.get("repoURL") in old:
            out |= {k: revision for k in ("revision", "targetRevision") if k in value}
        return out
    if isinstance(value, list):
        return [_replaced(v, old, new, revision) for v in value]
    return new if isinstance(value, str) and value in old else value


def down(state_dir: Path) -> bool:
    """Stop Argo CD, the clusters' control planes and the git server; False if none ran."""
    stopped = argocd.stop(state_dir / "argocd")
    clusters = state_dir / "clusters"
    for folder in sorted(clusters.iterdir()) if clusters.is_dir() else []:
        stopped |= controlplane.down(folder)
    sandbox = Sandbox.load(state_dir)
    if sandbox is not None:
        stopped |= processes.stop(sandbox.git_pid, GIT_SERVER)
        (state_dir / "sandbox.json").unlink(missing_ok=True)
    return stopped


def _record(sandbox: Sandbox) -> None:
    Path(sandbox.state_dir, "sandbox.json").write_text(json.dumps(asdict(sandbox), indent=2))


def _progress(what: str) -> None:
    print(f"sandbox: starting {what}", file=sys.stderr, flush=True)
