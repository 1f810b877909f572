"""Benchmark `meshops import` from a cluster against `meshops drift` on the same cluster.

Starts its own local control plane and applies the synth benchmark's estate to it as Argo
CD would (default 1,900 services in one cluster: about 20,000 objects), committed to a
scratch repository as the drift benchmark does. Then times, taking turns, best of N:

- import:  `meshops import --env adopted --cluster adopted-1 --kubeconfig ...` (no
           `--namespace`: the namespaces it chooses itself), the CLI's `main` in a fresh
           process in a fresh folder, timed inside: reading the cluster, writing the
           environment file, and rendering it again to verify every claim
- drift:   `meshops drift --env estate` of the same cluster, the CLI's `main` in a fresh
           process, timed inside
- read:    import's reading alone (`importer.sources.from_cluster`, discovery included), in a
           fresh process, timed inside: what of import's time is the cluster's

Both are timed inside the process, after the interpreter's start-up and `charts_py.cli`'s
import (the same for both). The ratio import / drift is the measure (target <= 2x). Asserts
nothing. With `--docs`, the results replace block `import` of docs/development.md.

    .venv/bin/python scripts/bench_import.py [--services 1900] [--runs 3] [--docs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_drift  # the estate in a committed repository, and taking turns
import benchdoc

from charts_py import apply, kubeapi
from charts_py.cluster import controlplane

TARGET = 2.0

READ = """
import json, sys, time
from charts_py import kubeapi
from charts_py.importer import sources
started = time.perf_counter()
found = sources.from_cluster(kubeapi.Cluster.connect(sys.argv[1]), [])
print(json.dumps({"seconds": time.perf_counter() - started, "objects": len(found.objects)}))
"""

CHILD = """
import json, os, sys, time
from charts_py import cli
os.chdir(sys.argv[1])
started = time.perf_counter()
code = cli.main(json.loads(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - started, "code": code}))
"""


def timed_cli(argv: list[str], cwd: Path) -> tuple[float, int]:
    """(seconds inside `cli.main(argv)`, exit code), in a fresh process in `cwd`."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(cwd), json.dumps(argv)],
        capture_output=True,
        text=True,
        check=False,
    )
    if not done.stdout.strip():
        raise SystemExit(f"meshops {argv[0]} failed: {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] == 2:
        raise SystemExit(f"meshops {argv[0]} could not complete: {done.stderr.strip()[-2000:]}")
    return result["seconds"], result["code"]


class Runs:
    """The two commands against one cluster, each run in a fresh folder and process."""

    def __init__(self, work: Path, repo: Path, kubeconfig: str) -> None:
        self.work, self.repo, self.kubeconfig = work, repo, kubeconfig
        self.count = 0
        self.report: dict[str, Any] = {}

    def imported(self) -> float:
        self.count += 1
        folder = self.work / f"import-{self.count}"
        folder.mkdir()
        report = folder / "report.json"
        argv = ["import", "--env", "adopted", "--cluster", "adopted-1"]
        argv += ["--kubeconfig", self.kubeconfig, "--report", str(report)]
        seconds, _ = timed_cli(argv, folder)
        self.report = json.loads(report.read_text())
        print(f"  import: {seconds:.2f}s", flush=True)
        return seconds

    def read(self) -> float:
        done = subprocess.run(
            [sys.executable, "-c", READ, self.kubeconfig],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  read: {result['seconds']:.2f}s ({result['objects']} objects)", flush=True)
        return float(result["seconds"])

    def drifted(self) -> float:
        argv = ["drift", "--env", "estate", "--repo", str(self.repo)]
        argv += ["--kubeconfig", self.kubeconfig, "--format", "json", "--output", os.devnull]
        seconds, code = timed_cli(argv, self.repo)
        print(f"  drift: {seconds:.2f}s (exit {code})", flush=True)
        return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1900)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", action="store_true", help="write docs/development.md's block")
    args = parser.parse_args()
    record = benchdoc.Record()
    say = record.say
    say(f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        state = work / "control-plane"
        local = controlplane.up(state)
        try:
            repo, objects = bench_drift.prepare(work, args.services)
            started = time.perf_counter()
            apply.apply(kubeapi.Cluster.connect(local.kubeconfig), objects)
            apply_s = time.perf_counter() - started
            say(f"applied the estate: {len(objects)} objects in {apply_s:.0f}s")
            runs = Runs(work, repo, local.kubeconfig)
            import_s, drift_s, read_s = bench_drift.taking_turns(
                args.runs, runs.imported, runs.drifted, runs.read
            )
        finally:
            controlplane.down(state)
    summary = runs.report.get("summary", {})
    read = sum(summary.values())
    ratio = import_s / drift_s
    say(f"import read {read} objects: {summary}")
    say(f"  meshops import (best of {args.runs}): {import_s:.2f}s")
    say(f"  meshops drift  (best of {args.runs}): {drift_s:.2f}s")
    say(f"  of import: reading the cluster {read_s:.2f}s, the rest {import_s - read_s:.2f}s")
    say(f"  import / drift: {ratio:.2f}x (target <= {TARGET:.0f}x)")
    say(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.docs:
        what = (
            f"`meshops import` from the cluster, estate of {args.services} services "
            f"({len(objects):,} objects applied, {read:,} imported), timed in process, "
            f"best of {args.runs}"
        )
        rows = [
            [what, f"{import_s:.2f} s", f"{drift_s:.2f} s (`meshops drift`, same cluster)",
             f"{ratio:.2f}x", f"<= {TARGET:.0f}x: {benchdoc.verdict(ratio <= TARGET)}"],
            ["of which reading the cluster (`importer.sources.from_cluster`)", f"{read_s:.2f} s",
             "", f"{read_s / drift_s:.2f}x drift", ""],
        ]  # fmt: skip
        benchdoc.write("import", ("what", "meshops", "baseline", "ratio", "target"), rows, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
