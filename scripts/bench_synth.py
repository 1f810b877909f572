"""Benchmark synth on a generated estate against a floor measured in the same run.

Estate: one prod-profile environment of N services (default 500) across 4 clusters.
Floor: the very same objects as plain dicts, dumped with libyaml's C emitter and written one
file per object: what any generator must at least spend. Also times the CLI on the sample
environments (best of 3). Prints objects, seconds and ratios; asserts nothing.

    .venv/bin/python scripts/bench_synth.py [--services 500] [--clusters 4]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

import charts_py  # noqa: F401  (sets the jsii environment before cdk8s loads)
from charts_py.config import environment
from charts_py.render import dist, synth

REPO = Path(__file__).resolve().parent.parent


def estate(services: int, clusters: int) -> dict[str, Any]:
    """A large, realistic-shaped environment: chains of callers, canaries, externals."""
    externals = [
        {
            "name": f"ext-{i:02d}",
            "host": f"api{i}.partner.example.com",
            "port": 443,
            "protocol": "TLS",
            "sensitive": i % 3 == 0,
        }
        for i in range(20)
    ]
    svcs = []
    for i in range(services):
        svc: dict[str, Any] = {
            "name": f"svc-{i:03d}",
            "image": f"registry.example.com/estate/svc-{i:03d}:1.{i % 7}.0",
            "calls": [f"svc-{j:03d}" for j in (i + 1, i + 2, i + 3) if j < services],
            "externals": [f"ext-{i % 20:02d}"] if i % 5 == 0 else [],
        }
        if i % 10 == 0:
            svc["versions"] = [{"name": "v1", "weight": 80}, {"name": "v2", "weight": 20}]
        if i == 0:
            svc["ingress"] = {"path": "/"}
        svcs.append(svc)
    return {
        "profile": "prod",
        "namespace": "estate",
        "clusters": [
            {"name": f"estate-{c}", "region": f"region-{c}", "network": f"net-{c}"}
            for c in range(clusters)
        ],
        "argocd": {"repoURL": "https://git.example.com/estate.git"},
        "ingress": {"hosts": ["estate.example.com"], "tlsSecret": "estate-tls"},
        "externalServices": externals,
        "services": svcs,
    }


def timed_synth(envs_dir: Path, out: Path) -> tuple[int, float, list[dict[str, Any]]]:
    started = time.perf_counter()
    result = synth.run(envs_dir, out)
    return len(result.manifests), time.perf_counter() - started, [m.obj for m in result.manifests]


def timed_floor(objects: list[dict[str, Any]], out: Path) -> float:
    dumper = yaml.CSafeDumper
    started = time.perf_counter()
    for i, obj in enumerate(objects):
        text = yaml.dump(obj, Dumper=dumper, sort_keys=True, default_flow_style=False)
        (out / f"{i}.yaml").write_text(text)
    return time.perf_counter() - started


def cli_sample_seconds(runs: int = 3) -> float:
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(
                [
                    str(REPO / ".venv/bin/meshops"),
                    "synth",
                    "--environments",
                    str(REPO / "environments"),
                    "--dist",
                    f"{tmp}/dist",
                ],
                check=True,
                capture_output=True,
            )
            best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--clusters", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "envs").mkdir()
        (work / "envs/estate.yaml").write_text(yaml.safe_dump(estate(args.services, args.clusters)))
        load_started = time.perf_counter()
        environment.load_all(work / "envs")
        load_s = time.perf_counter() - load_started
        count, synth_s, objects = timed_synth(work / "envs", work / "dist")
        (work / "floor").mkdir()
        floor_s = timed_floor(objects, work / "floor")
        files = len(dist.read_tree(work / "dist"))
        shutil.rmtree(work / "dist")
    sample_s = cli_sample_seconds()
    print(
        f"estate: {args.services} services x {args.clusters} clusters = {count} objects "
        f"({files} files)"
    )
    print(f"  config load + validation: {load_s:.2f}s")
    print(f"  meshops synth (in process): {synth_s:.2f}s")
    print(f"  floor (dicts + C YAML dumper + write): {floor_s:.2f}s")
    print(f"  ratio synth / floor: {synth_s / floor_s:.1f}x (target <= 10x)")
    print(
        f"sample: `meshops synth` CLI, all environments, best of 3: {sample_s:.2f}s (target < 3 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
