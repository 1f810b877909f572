"""Benchmark `meshops drift` in a quiet cluster and in a busy one full of other people's
objects, in one run, and print the time and peak-memory ratios busy / quiet (target 1.2x).

Starts its own local control plane, applies an estate (default 12 services, about 130
objects, prod-east's size) as Argo CD would, then times drift (best of `--runs`, each run in a
fresh process so that its peak memory, parse worker included, is its own: see
`bench_drift.one_run`). Then it fills the cluster: `--configmaps` foreign
ConfigMaps of 4 KiB and `--others` each of Services, Deployments and Jobs, spread over
`--namespaces` namespaces meshops does not manage (created 8 at a time), and times again.
Both peaks are also printed against the nightly job's memory limit.

    .venv/bin/python scripts/bench_drift_busy.py [--services 12] [--configmaps 20000]
        [--others 2000] [--namespaces 40]
    .venv/bin/python scripts/bench_drift_busy.py --services 970 --configmaps 0 --others 0
        # 10,066 meshops objects, no filling: peak memory against the limit

With `--docs`, the results replace block `drift-busy` of docs/development.md (`--docs NAME`:
block NAME; the 10,000-object run writes `drift-memory`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_drift  # the estate in a scratch repository, shared with the speed benchmark
import benchdoc

from charts_py import apply, kubeapi, quantity
from charts_py.cluster import controlplane
from charts_py.constructs import drift_job

WORKERS = 8
PAYLOAD = "x" * 4096


def measure(repo: Path, kubeconfig: str, runs: int) -> tuple[float, float, dict[str, int]]:
    results = [bench_drift.one_run(repo, kubeconfig) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), results[0][2]


def foreign(kind: str, namespace: str, name: str) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "labels": {"team": "someone-else"}}
    labels = {"app": name}
    pod = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "data": {"blob": PAYLOAD}}
    if kind == "Service":
        spec = {"selector": labels, "ports": [{"port": 80}]}
        return {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec}
    if kind == "Deployment":
        spec = {"selector": {"matchLabels": labels}, "template": pod}
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
    job_pod = {**pod, "spec": {**pod["spec"], "restartPolicy": "Never"}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {"template": job_pod},
    }


def fill(cluster: kubeapi.Cluster, configmaps: int, others: int, namespaces: int) -> float:
    """Create the foreign objects; return how long it took."""
    started = time.perf_counter()
    names = [f"foreign-{i:02d}" for i in range(namespaces)]
    for ns in names:
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                      field_manager="someone-else")  # fmt: skip
    todo = [("ConfigMap", i) for i in range(configmaps)]
    todo += [(kind, i) for kind in ("Service", "Deployment", "Job") for i in range(others)]

    def create(item: tuple[str, int]) -> None:
        kind, i = item
        obj = foreign(kind, names[i % namespaces], f"{kind.lower()}-{i:05d}")
        res = cluster.served(obj["apiVersion"], kind)
        cluster.request("POST", res.path(obj["metadata"]["namespace"]), body=obj)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for done, _ in enumerate(pool.map(create, todo), 1):
            if done % 5000 == 0:
                print(f"  created {done}/{len(todo)} foreign objects", flush=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=12)
    parser.add_argument("--configmaps", type=int, default=20000)
    parser.add_argument("--others", type=int, default=2000)
    parser.add_argument("--namespaces", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5, help="best of this many, each side")
    parser.add_argument("--kubeconfig", default=None, help="an empty cluster to use instead")
    parser.add_argument("--docs", nargs="?", const="drift-busy", metavar="BLOCK",
                        help="write docs/development.md's block (default: drift-busy)")  # fmt: skip
    args = parser.parse_args()
    record = benchdoc.Record()
    say = record.say  # printed, and kept for the docs block
    total = args.configmaps + 3 * args.others
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        state = work / "control-plane"
        kubeconfig = args.kubeconfig or controlplane.up(state).kubeconfig
        try:
            repo, objects = bench_drift.prepare(work, args.services)
            cluster = kubeapi.Cluster.connect(kubeconfig)
            apply.apply(cluster, objects)
            quiet = measure(repo, kubeconfig, args.runs)
            say(f"quiet: {len(objects)} meshops objects: {quiet[0]:.2f}s, {quiet[1]:.0f} MiB")
            busy = quiet
            if total:
                filled = fill(cluster, args.configmaps, args.others, args.namespaces)
                say(f"filled in {filled:.0f}s")
                busy = measure(repo, kubeconfig, args.runs)
        finally:
            if not args.kubeconfig:
                controlplane.down(state)
    limit = float(quantity.amount(drift_job.MEMORY_LIMIT)) / 2**20
    say(f"drift verdict quiet: {quiet[2]}")
    say(f"  quiet ({len(objects)} objects):          {quiet[0]:.2f}s  {quiet[1]:.0f} MiB peak")
    if total:
        say(f"drift verdict busy:  {busy[2]}")
        say(f"  busy (+{total} foreign objects):   {busy[0]:.2f}s  {busy[1]:.0f} MiB peak")
        say(f"  time   busy / quiet: {busy[0] / quiet[0]:.2f}x (target <= 1.2x)")
        say(f"  memory busy / quiet: {busy[1] / quiet[1]:.2f}x (target <= 1.2x)")
    for name, peak in (("quiet", quiet[1]), ("busy", busy[1]))[: 2 if total else 1]:
        say(f"  peak {name} / job limit ({drift_job.MEMORY_LIMIT}): {peak / limit:.0%}")
    if args.docs:
        rows = [[f"`meshops drift`, quiet cluster, {len(objects):,} objects, best of {args.runs}",
                 f"{quiet[0]:.2f} s", f"{quiet[1]:.0f} MiB",
                 f"{quiet[1] / limit:.0%} of the job's {drift_job.MEMORY_LIMIT}", ""]]  # fmt: skip
        if total:
            time_x, memory_x = busy[0] / quiet[0], busy[1] / quiet[1]
            rows.append([f"the same, busy: +{total:,} foreign objects", f"{busy[0]:.2f} s",
                         f"{busy[1]:.0f} MiB", f"busy / quiet: time {time_x:.2f}x, memory "
                         f"{memory_x:.2f}x", f"<= 1.2x: time {benchdoc.verdict(time_x <= 1.2)}, "
                         f"memory {benchdoc.verdict(memory_x <= 1.2)}"])  # fmt: skip
        header = ("what", "time", "peak memory", "ratio", "target")
        benchdoc.write(args.docs, header, rows, record)
    return 0 if quiet[2] == busy[2] else 1


if __name__ == "__main__":
    sys.exit(main())
