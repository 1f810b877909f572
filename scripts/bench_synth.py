"""Benchmark synth on a generated estate against a floor measured in the same run.

Estate: one prod-profile environment of N services (default 500) across 4 clusters.
Synth: `meshops synth` of it, as a user runs it (a fresh process: start-up, render,
validation, write), wall time. Floor: the very same objects as plain dicts (read back from
that synth's output), dumped with libyaml's C emitter and written one file per object: what
any generator must at least spend. Each round times a synth, then its floor, back to back,
so a ratio compares like with like on a busy machine; every round and the range are
printed. Also times the CLI on the sample environments (best of N runs); with `--against
REF`, the same CLI of the tree at git ref REF too (its own sample environments, run with
this venv), alternating run by run, so that a change is measured against its base under the
same load. Every dist/ is written in the checkout (under .bench/, which git ignores), as a
user's synth writes beside its environments: on our machine, creating 800 small files in
a folder under /tmp took 0.6-0.9 s against 0.03-0.05 s in the checkout (ext4 allocates
inodes near the parent folder, and /tmp had seen tens of GB come and go), and that would
time /tmp, not synth. On the same machine the cost moved between folders of the checkout
too (0.03-0.9 s for the sample's files), so the sample's row says how long writing its
files alone took where it wrote; `--scratch DIR` writes elsewhere (a tmpfs such as
/dev/shm takes the disk out of the measure). Asserts nothing. With `--docs`, the results
replace their blocks of docs/development.md (`synth-sample`, and `synth-estate` unless
`--sample-only`).

    .venv/bin/python scripts/bench_synth.py [--services 500] [--clusters 4] [--rounds 2]
                                            [--runs 5] [--against REF] [--sample-only] [--docs]
                                            [--scratch DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchdoc
import yaml

from charts_py import yamlio
from charts_py.render import dist

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv/bin/python")
# What the `meshops` console script runs; with PYTHONPATH, of the tree it names (a tree
# from before `entry` existed ran `main`).
CLI = "import sys, charts_py.cli as c; c.entry() if hasattr(c, 'entry') else sys.exit(c.main())"


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


SCRATCH = REPO / ".bench"
"""Where measurements write by default (`--scratch`)."""


def scratch(where: Path) -> tempfile.TemporaryDirectory[str]:
    """A folder for one measurement, under `where` (see the module's docstring), removed
    afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=where)


def timed_cli_synth(envs_dir: Path, out: Path, tree: Path = REPO) -> float:
    """Wall time of `meshops synth` (of the code in `tree`) of `envs_dir` into `out`, in a
    fresh process."""
    started = time.perf_counter()
    command = [PYTHON, "-c", CLI, "synth", "--environments", str(envs_dir), "--dist", str(out)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(command, check=True, capture_output=True, cwd=tree, env=env)
    return time.perf_counter() - started


def tree_at(ref: str, into: Path) -> Path:
    """The files of git ref `ref` of this repository, extracted under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def objects_in(out: Path) -> list[dict[str, Any]]:
    """Every object a synth wrote under `out`, as plain dicts."""
    return [yamlio.load(b) for p, b in dist.read_tree(out).items() if p.endswith(".yaml")]


def timed_floor(objects: list[dict[str, Any]], out: Path) -> float:
    dumper = yaml.CSafeDumper
    started = time.perf_counter()
    for i, obj in enumerate(objects):
        text = yaml.dump(obj, Dumper=dumper, sort_keys=True, default_flow_style=False)
        (out / f"{i}.yaml").write_text(text)
    return time.perf_counter() - started


def estate_round(work: Path) -> tuple[int, float, float]:
    """(objects, synth seconds, floor seconds) of one synth and its floor."""
    synth_s = timed_cli_synth(work / "envs", work / "dist")
    objects = objects_in(work / "dist")
    (work / "floor").mkdir()
    floor_s = timed_floor(objects, work / "floor")
    shutil.rmtree(work / "dist")
    shutil.rmtree(work / "floor")
    return len(objects), synth_s, floor_s


def sample_seconds(runs: int, trees: list[Path], where: Path) -> tuple[list[float], float]:
    """Best wall time, per tree, of `runs` CLI synths of its sample environments into a
    fresh dist/, the trees taking turns; and the best time of writing the files of this
    tree's synth alone, in the same folder, right after it (what this machine's file system
    asks of any synth there)."""
    best = [float("inf")] * len(trees)
    writing = float("inf")
    with scratch(where) as tmp:
        out = Path(tmp) / "dist"
        for _ in range(runs):
            for i, tree in enumerate(trees):
                best[i] = min(best[i], timed_cli_synth(tree / "environments", out, tree))
                if i == 0:
                    writing = min(writing, timed_writing(dist.read_tree(out), Path(tmp)))
                shutil.rmtree(out)
    return best, writing


def timed_writing(files: dict[str, bytes], beside: Path) -> float:
    """Seconds to write `files` (relative paths) into a new folder in `beside`, folders
    made once each, as synth stages dist/ (render/dist.py); removed afterwards."""
    started = time.perf_counter()
    into = Path(tempfile.mkdtemp(dir=beside))
    for folder in sorted({(into / rel).parent for rel in files}):
        folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        (into / rel).write_bytes(data)
    seconds = time.perf_counter() - started
    shutil.rmtree(into)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="estate synth + floor rounds")
    parser.add_argument("--runs", type=int, default=5, help="sample CLI runs (best is shown)")
    parser.add_argument("--against", metavar="REF", help="also time the sample CLI of git ref REF")
    parser.add_argument("--sample-only", action="store_true", help="skip the estate rounds")
    parser.add_argument("--docs", action="store_true", help="write docs/development.md's blocks")
    parser.add_argument(
        "--scratch", type=Path, default=SCRATCH, help="where to write (default: .bench/)"
    )
    args = parser.parse_args()
    where = args.scratch.resolve()
    if not args.sample_only:
        record = benchdoc.Record()
        record.say(f"load average {os.getloadavg()[0]:.1f} at the start")
        row = estate_rounds(args.services, args.clusters, args.rounds, record, where)
        record.say(f"load average {os.getloadavg()[0]:.1f} at the end")
        if args.docs:
            benchdoc.write("synth-estate", ESTATE_HEADER, [row], record)
    record = benchdoc.Record()
    record.say(f"load average {os.getloadavg()[0]:.1f} at the start")
    row = sample_runs(args.runs, args.against, record, where)
    record.say(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.docs:
        benchdoc.write("synth-sample", SAMPLE_HEADER, [row], record)
    return 0


SAMPLE_HEADER = ("what", "meshops", "the same CLI of REF, in turns", "ratio", "target")
ESTATE_HEADER = ("what", "meshops", "floor", "ratio", "target")


def sample_size() -> str:
    """How big the sample is, from its committed dist/ (it grows with the environments)."""
    envs = [d for d in sorted((REPO / "dist").iterdir()) if d.is_dir() and d.name != "_bootstrap"]
    clusters = sum(1 for env in envs for d in env.iterdir() if d.is_dir())
    return f"{len(envs)} environments, {clusters} clusters"


def sample_runs(runs: int, against: str | None, record: benchdoc.Record, where: Path) -> list[str]:
    """Time and say the sample CLI's best of `runs` (and REF's, in turns); its table row."""
    with scratch(where) as tmp:
        trees = [REPO] + ([tree_at(against, Path(tmp))] if against else [])
        (sample_s, *base_s), writing_s = sample_seconds(runs, trees, where)
    record.say(
        f"sample: `meshops synth` CLI, all environments, best of {runs}: "
        f"{sample_s:.2f}s (target <= 1.5 s)"
    )
    record.say(
        f"  writing its files alone, in the same folder: {writing_s:.2f}s "
        "(this file system's share, whatever writes them)"
    )
    if base_s:
        record.say(
            f"  {against} (taking turns with it): {base_s[0]:.2f}s; "
            f"this tree takes {sample_s / base_s[0]:.2f}x its time"
        )
    what = (
        f"`meshops synth`, sample ({sample_size()}), CLI wall time, best of {runs}, "
        f"written under {where} (writing its files alone there: {writing_s:.2f} s)"
    )
    base = f"{against}: {base_s[0]:.2f} s" if base_s else "(not measured)"
    ratio = f"{sample_s / base_s[0]:.2f}x" if base_s else ""
    target = f"<= 1.5 s: {benchdoc.verdict(sample_s <= 1.5)}"
    return [what, f"{sample_s:.2f} s", base, ratio, target]


def estate_rounds(
    services: int, clusters: int, rounds: int, record: benchdoc.Record, where: Path
) -> list[str]:
    """Time and say `rounds` estate synths, each against its floor; their table row."""
    with scratch(where) as tmp:
        work = Path(tmp)
        (work / "envs").mkdir()
        (work / "envs/estate.yaml").write_text(yaml.safe_dump(estate(services, clusters)))
        done = [estate_round(work) for _ in range(rounds)]
    record.say(f"estate: {services} services x {clusters} clusters = {done[0][0]} objects")
    for i, (_, synth_s, floor_s) in enumerate(done, 1):
        record.say(
            f"  round {i}: `meshops synth` {synth_s:.2f}s, "
            f"floor (dicts + C YAML dumper + write) {floor_s:.2f}s: {synth_s / floor_s:.1f}x"
        )
    ratios = sorted(synth_s / floor_s for _, synth_s, floor_s in done)
    record.say(f"  ratio synth / floor: {ratios[0]:.1f}-{ratios[-1]:.1f}x (target <= 4x)")
    synths = sorted(s for _, s, _ in done)
    floors = sorted(f for _, _, f in done)
    return [
        f"`meshops synth`, estate of {services} services x {clusters} clusters "
        f"({done[0][0]:,} objects), CLI wall time, {rounds} rounds",
        f"{synths[0]:.1f}-{synths[-1]:.1f} s",
        f"{floors[0]:.1f}-{floors[-1]:.1f} s (the same dicts, libyaml, a file each)",
        f"{ratios[0]:.1f}-{ratios[-1]:.1f}x",
        f"<= 4x: {benchdoc.verdict(ratios[-1] <= 4)}",
    ]


if __name__ == "__main__":
    sys.exit(main())
