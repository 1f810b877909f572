"""Benchmark `meshops review` against a floor measured in the same run.

Estate: the synth benchmark's environment (default 500 services x 4 clusters, about 20,000
objects), synthesised by `meshops synth` and committed on `main`; a branch `shift` changes one
canary's weights (80/20 -> 70/30) and is synthesised and committed too. Review: `run.run` of
main -> shift in a fresh process, timed inside (the interpreter's start-up and imports are the
same for any change, so they are not part of the ratio; the sample's CLI wall time, which has
them, is printed on its own). Floor, also in a fresh process and timed inside: `git diff
--name-only` of the two commits, then the changed files' blobs at both commits (one `git
cat-file --batch`) parsed with libyaml. The two take turns; the best of each is compared.
Also prints the CLI wall time of a review of the sample environments (best of N). Asserts
nothing. With `--docs`, the results replace block `review` of docs/development.md.

    .venv/bin/python scripts/bench_review.py [--services 500] [--clusters 4] [--runs 5] [--docs]
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

import bench_synth  # the estate generator, shared with the synth benchmark
import benchdoc
import yaml

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv/bin/python")
MESHOPS = str(REPO / ".venv/bin/meshops")
_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]

REVIEW = """
import sys, time
from charts_py.review import run
options = run.Options(base="main", head="shift", repo=None)
started = time.perf_counter()
review = run.run(options)
print(time.perf_counter() - started, len(review.changes))
"""

FLOOR = """
import subprocess, sys, time, yaml
started = time.perf_counter()
names = subprocess.run(["git", "diff", "--name-only", "-z", "main", "shift"],
                       capture_output=True, check=True).stdout.split(b"\\0")
names = [n.decode() for n in names if n.endswith(b".yaml")]
wanted = "".join(f"{ref}:{n}\\n" for ref in ("main", "shift") for n in names).encode()
batch = subprocess.run(["git", "cat-file", "--batch"], input=wanted,
                       capture_output=True, check=True).stdout
at, parsed = 0, 0
while at < len(batch):
    end = batch.index(b"\\n", at)
    header = batch[at:end].split(b" ")
    if header[-1] == b"missing":
        at = end + 1
        continue
    size = int(header[2])
    yaml.load(batch[end + 1 : end + 1 + size], Loader=yaml.CSafeLoader)
    parsed += 1
    at = end + 2 + size
print(time.perf_counter() - started, parsed)
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *_ID, *args], check=True, capture_output=True)


def synth(repo: Path) -> None:
    subprocess.run([MESHOPS, "synth"], cwd=repo, check=True, capture_output=True)


def prepare(work: Path, services: int, clusters: int) -> Path:
    """The estate on main, one canary's weights changed on branch shift, both synthesised."""
    repo = work / "estate"
    (repo / "environments").mkdir(parents=True)
    env_file = repo / "environments" / "estate.yaml"
    env_file.write_text(yaml.safe_dump(bench_synth.estate(services, clusters), sort_keys=False))
    synth(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "estate")
    git(repo, "checkout", "-q", "-b", "shift")
    text = env_file.read_text()
    canary = "- name: svc-010\n"
    start = text.index(canary)
    head, tail = text[:start], text[start:]
    tail = tail.replace("weight: 80", "weight: 70", 1).replace("weight: 20", "weight: 30", 1)
    env_file.write_text(head + tail)
    synth(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shift svc-010")
    git(repo, "checkout", "-q", "main")
    return repo


def inside(code: str, repo: Path) -> tuple[float, str]:
    """(seconds the snippet timed itself, the rest of its output) in a fresh process."""
    done = subprocess.run(
        [PYTHON, "-c", code], cwd=repo, check=True, capture_output=True, text=True
    )
    seconds, rest = done.stdout.split(maxsplit=1)
    return float(seconds), rest.strip()


def objects(repo: Path) -> int:
    return sum(1 for p in (repo / "dist").rglob("*.yaml") if "_bootstrap" not in p.parts)


def sample(runs: int, work: Path) -> float:
    """Best CLI wall time of a review of the sample: a canary shift committed on a branch."""
    repo = work / "sample"
    repo.mkdir()
    for folder in ("environments", "dist"):
        shutil.copytree(REPO / folder, repo / folder)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "sample")
    git(repo, "checkout", "-q", "-b", "shift")
    prod = repo / "environments" / "prod.yaml"
    text = prod.read_text().replace("{name: v1, weight: 90}", "{name: v1, weight: 80}")
    prod.write_text(text.replace("weight: 10,", "weight: 20,"))
    synth(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shift")
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([MESHOPS, "review", "--base", "main", "--head", "shift"], cwd=repo,
                       check=True, capture_output=True)  # fmt: skip
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--clusters", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docs", action="store_true", help="write docs/development.md's block")
    args = parser.parse_args()
    record = benchdoc.Record()
    record.say(f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        work = Path(tmp)
        best = sample(args.runs, work)
        record.say(f"sample: `meshops review` CLI (a canary shift), best of {args.runs}:"
                   f" {best:.2f}s (target <= 1 s)")  # fmt: skip
        repo = prepare(work, args.services, args.clusters)
        count = objects(repo)
        record.say(f"estate: {args.services} services x {args.clusters} clusters = {count}"
                   " objects; branch shift changes svc-010's weights")  # fmt: skip
        reviews, floors = [], []
        for _ in range(args.runs):
            seconds, found = inside(REVIEW, repo)
            reviews.append(seconds)
            seconds, parsed = inside(FLOOR, repo)
            floors.append(seconds)
        review_s, floor_s = min(reviews), min(floors)
        record.say(f"  meshops review (in process): {review_s:.3f}s ({found} changes)")
        record.say(f"  floor (git diff --name-only + libyaml parse of {parsed} changed files):"
                   f" {floor_s:.3f}s")  # fmt: skip
        record.say(f"  review / floor: {review_s / floor_s:.1f}x (target <= 3x)")
    record.say(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.docs:
        rows = [
            ["`meshops review` of the sample (a canary shift), CLI wall time, best of"
             f" {args.runs}", f"{best:.2f} s", "", "", f"<= 1 s: {benchdoc.verdict(best <= 1)}"],
            [f"`meshops review` of the estate ({count} objects, one canary's weights), in"
             " process", f"{review_s:.3f} s", f"{floor_s:.3f} s", f"{review_s / floor_s:.1f}x",
             f"<= 3x: {benchdoc.verdict(review_s / floor_s <= 3)}"],
        ]  # fmt: skip
        benchdoc.write("review", ("what", "meshops", "floor", "ratio", "target"), rows, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
