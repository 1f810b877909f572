"""Benchmark `meshops drift` against the LIST floor and the per-object approach, in one run.

Starts its own local control plane, applies a generated estate (default 220 services, about
2,300 objects) as Argo CD would, commits it to a scratch git repository, then times (best of
3, the same client and the same 8 requests in flight everywhere):

- drift:       `meshops drift` in process (git read, discovery, LISTs, comparison)
- floor:       one paginated LIST per kind of the same kinds, nothing else
- per-object:  GET + server-side apply dry-run per object (what kubectl diff and Flux do)

    .venv/bin/python scripts/bench_drift.py [--services 220]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_synth  # the estate generator, shared with the synth benchmark

from charts_py import apply, contract, kubeapi
from charts_py.cluster import controlplane
from charts_py.config import environment
from charts_py.drift import run
from charts_py.render import synth
from charts_py.render.manifest import render

WORKERS = 8


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def prepare(work: Path, services: int) -> tuple[Path, list[dict[str, Any]]]:
    """An estate environment rendered into a committed scratch repository."""
    repo = work / "repo"
    (repo / "environments").mkdir(parents=True)
    data = bench_synth.estate(services, 1)
    (repo / "environments" / "estate.yaml").write_text(yaml.safe_dump(data))
    envs = list(environment.load_all(repo / "environments").values())
    placed = [m for m in synth.manifests(envs, envs) if not m.path.startswith("_")]
    for m in placed:
        target = repo / "dist" / m.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(m.obj, "environments/estate.yaml"))
    handle = git.Repo.init(repo)
    handle.git.add("-A")
    handle.git.commit("-m", "estate", "--author", "bench <bench@localhost>")
    return repo, [m.obj for m in placed]


def floor(cluster: kubeapi.Cluster, objects: list[dict[str, Any]]) -> None:
    kinds = sorted({(o["apiVersion"], o["kind"]) for o in objects})
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda k: list(cluster.list(cluster.served(*k))), kinds))


def per_object(cluster: kubeapi.Cluster, objects: list[dict[str, Any]]) -> None:
    def one(obj: dict[str, Any]) -> None:
        res = cluster.served(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        cluster.request("GET", res.path(meta.get("namespace"), meta["name"]))
        cluster.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=True)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, objects))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=220)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        state = work / "control-plane"
        started = time.perf_counter()
        local = controlplane.up(state)
        up_s = time.perf_counter() - started
        try:
            repo, objects = prepare(work, args.services)
            cluster = kubeapi.Cluster.connect(local.kubeconfig)
            started = time.perf_counter()
            apply.apply(cluster, objects)
            apply_s = time.perf_counter() - started
            options = run.Options(env="estate", repo=repo, kubeconfig=local.kubeconfig)
            report = run.run(options)[0]
            drift_s = best(lambda: run.run(options))
            floor_s = best(lambda: floor(cluster, objects))
            per_object_s = best(lambda: per_object(cluster, objects), runs=1)
        finally:
            controlplane.down(state)
    print(f"control plane up: {up_s:.1f}s; applied {len(objects)} objects in {apply_s:.1f}s")
    print(f"drift verdict: {report.summary()}")
    print(f"  meshops drift:             {drift_s:.2f}s")
    print(f"  LIST floor:                {floor_s:.2f}s")
    print(f"  GET + dry-run per object:  {per_object_s:.2f}s")
    print(f"  drift / floor:       {drift_s / floor_s:.1f}x (target <= 3x)")
    print(f"  per-object / drift:  {per_object_s / drift_s:.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
