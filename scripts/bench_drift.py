"""Benchmark `meshops drift` against the LIST floor and the per-object approach, in one run.

Starts its own local control plane, applies a generated estate (default 220 services, about
2,300 objects) as Argo CD would, commits it to a scratch git repository and clones that (the
nightly job reads a clone: its objects are packed), then times (best of 5, drift and floor
taking turns so that both see the same machine; the same client and the same 8 requests in
flight everywhere):

- drift:       `meshops drift`'s run (git read, discovery, LISTs, comparison) in a fresh
               process, as the CLI and the nightly job run it (timed inside: no start-up)
- floor:       one paginated LIST per kind of the same kinds, nothing else (a fresh
               process too, timed inside)
- per-object:  GET + server-side apply dry-run per object (what kubectl diff and Flux do)

With `--against REF`, drift of the tree at git ref REF takes its turn as well (the same
child, run with that tree's charts_py). With `--docs`, the results replace block `drift` of
docs/development.md.

    .venv/bin/python scripts/bench_drift.py [--services 220] [--against REF] [--docs]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
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
import benchdoc

from charts_py import apply, contract, kubeapi
from charts_py.cluster import controlplane
from charts_py.config import environment
from charts_py.drift import run
from charts_py.render import synth
from charts_py.render.manifest import render

WORKERS = 8

CHILD = """
import json, sys, time
from pathlib import Path
from charts_py.drift import run
options = run.Options(env="estate", repo=Path(sys.argv[1]), kubeconfig=sys.argv[2])
started = time.perf_counter()
report = run.run(options)[0]
seconds = time.perf_counter() - started
status = Path("/proc/self/status").read_text()
peak = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_kib": peak, "summary": report.summary()}))
"""
# Peak memory: the child's own high-water mark of RSS (a child's ru_maxrss on Linux starts
# from the parent's RSS at fork, which would measure this script instead of drift), or, when
# drift forks its parse worker, the highest sum of the two processes' proportional set sizes
# (Pss: pages they share counted once, as the job's memory limit counts them), sampled.


def one_run(
    repo: Path, kubeconfig: str, memory: bool = True, tree: Path = bench_synth.REPO
) -> tuple[float, float, dict[str, int]]:
    """(seconds in drift, peak memory in MiB, summary) of one drift in a fresh process, with
    the charts_py of `tree`. Sampling memory slows the process sampled (the kernel walks its
    page tables), so a run timed for speed alone (`memory` False) reports only its own
    high-water mark."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(repo), kubeconfig],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    together, seen = 0, set[int]()
    while memory and child.poll() is None:
        now, seen = _pss_kib(child.pid, seen)
        together = max(together, now)
        time.sleep(0.01)
    child.wait()
    out = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"drift run failed ({child.returncode})")
    data = json.loads(out)
    peak = max(data["peak_kib"], together) / 1024
    print(f"  one run: {data['seconds']:.2f}s, peak {peak:.0f} MiB", flush=True)
    return data["seconds"], peak, data["summary"]


def _pss_kib(pid: int, seen: set[int]) -> tuple[int, set[int]]:
    """Pss of a process and of its children already there at the last sample (a child
    between vfork and exec, such as a git command starting, shares the process's memory and
    would count it twice; the parse worker lives long enough to be seen twice), and the
    children seen now."""
    try:
        children = {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return 0, set()
    return _pss(pid) + sum(_pss(each) for each in children & seen), children


def _pss(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone meanwhile
        return 0
    return next((int(line.split()[1]) for line in rollup.splitlines()
                 if line.startswith("Pss:")), 0)  # fmt: skip


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    return min(timed(fn) for _ in range(runs))


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def taking_turns(runs: int, *each: Callable[[], float]) -> list[float]:
    """The best time of each, run alternately (a noisy neighbour slows all alike)."""
    times: list[list[float]] = [[] for _ in each]
    for _ in range(runs):
        for mine, fn in zip(times, each, strict=True):
            mine.append(fn())
    return [min(t) for t in times]


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
    clone = work / "clone"
    git.Repo.clone_from(f"file://{repo}", clone)
    return clone, [m.obj for m in placed]


FLOOR = """
import concurrent.futures, json, sys, time
from charts_py import kubeapi
kinds = [tuple(k) for k in json.loads(sys.argv[2])]
cluster = kubeapi.Cluster.connect(sys.argv[1])
resources = [cluster.served(*k) for k in kinds]  # discovery is not part of the floor
started = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(int(sys.argv[3])) as pool:
    list(pool.map(lambda r: list(cluster.list(r)), resources))
print(time.perf_counter() - started)
"""


def floor(kubeconfig: str, objects: list[dict[str, Any]]) -> float:
    """One paginated LIST per kind, 8 in flight, in a fresh process like drift's (so that
    neither pays for this script's heap); seconds."""
    kinds = sorted({(o["apiVersion"], o["kind"]) for o in objects})
    args = [sys.executable, "-c", FLOOR, kubeconfig, json.dumps(kinds), str(WORKERS)]
    return float(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


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
    parser.add_argument("--against", metavar="REF", help="also time drift of git ref REF")
    parser.add_argument("--docs", action="store_true", help="write docs/development.md's block")
    args = parser.parse_args()
    record = benchdoc.Record()
    record.say(f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        trees = [bench_synth.REPO]
        if args.against:
            (work / "against").mkdir()
            trees.append(bench_synth.tree_at(args.against, work / "against"))
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
            kubeconfig = local.kubeconfig
            drift_s, floor_s, *base_s = taking_turns(
                5,
                lambda: one_run(repo, kubeconfig, memory=False)[0],
                lambda: floor(kubeconfig, objects),
                *[lambda t=t: one_run(repo, kubeconfig, False, t)[0] for t in trees[1:]],
            )
            per_object_s = best(lambda: per_object(cluster, objects), runs=1)
        finally:
            controlplane.down(state)
    say = record.say
    say(f"control plane up: {up_s:.1f}s; applied {len(objects)} objects in {apply_s:.1f}s")
    say(f"drift verdict: {report.summary()}")
    say(f"  meshops drift:             {drift_s:.2f}s")
    say(f"  LIST floor:                {floor_s:.2f}s")
    say(f"  GET + dry-run per object:  {per_object_s:.2f}s")
    if base_s:
        say(f"  {args.against} drift (in turns): {base_s[0]:.2f}s: {drift_s / base_s[0]:.2f}x")
    say(f"  drift / floor:       {drift_s / floor_s:.1f}x (target <= 3x)")
    say(f"  per-object / drift:  {per_object_s / drift_s:.1f}x (target >= 5x)")
    say(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.docs:
        what = f"`meshops drift`, {len(objects):,} objects all in sync, a fresh process, best of 5"
        rows = [
            [what, f"{drift_s:.2f} s", f"{floor_s:.2f} s (one LIST per kind, 8 in flight)",
             f"{drift_s / floor_s:.1f}x", f"<= 3x: {benchdoc.verdict(drift_s / floor_s <= 3)}"],
            ["GET + dry-run per object (kubectl diff, Flux), same objects and concurrency",
             f"{per_object_s:.2f} s", "", f"{per_object_s / drift_s:.1f}x slower than drift",
             f">= 5x: {benchdoc.verdict(per_object_s / drift_s >= 5)}"],
        ]  # fmt: skip
        if base_s:
            rows.append([f"`meshops drift` of {args.against}, in turns", f"{base_s[0]:.2f} s",
                         "", f"this tree: {drift_s / base_s[0]:.2f}x its time", ""])  # fmt: skip
        benchdoc.write("drift", ("what", "meshops", "floor", "ratio", "target"), rows, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
