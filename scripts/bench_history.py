"""Benchmark what the findings' history costs a nightly run: `meshops drift --snapshot` on a
snapshot branch holding 365 nights of this cluster, against the same run on a branch with
no night at all (the first run), in one session.

The cluster is the sample's prod/prod-east (git: its dist folder, provenance and
environment file in a scratch repository; live: a dump of the same objects with two hand
edits, the mTLS mode and an image, so every run has findings to track and objects to
snapshot). The 365 nights are real snapshots: one run's files (report.json, report.md,
findings.json, the divergent objects), committed once per night with `git fast-import`, one
commit per night as the nightly job leaves them. Each timed run is a fresh `meshops drift`
process (as the CronJob runs it), the branch reset before it; with and without history take
turns, median of 9. The ratio is of CPU seconds (the process and its git children; wall
time on a shared machine moves with the load and is printed beside). It also times the
history step alone (read the previous index, track tonight) in-process.

    .venv/bin/python scripts/bench_history.py [--nights 365] [--repeat 9]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from charts_py import gitrepo  # noqa: E402
from charts_py.drift import run  # noqa: E402
from charts_py.report import history  # noqa: E402

ENV, CLUSTER = "prod", "prod-east"
EMPTY, LONG = "meshops/no-history", "meshops/365-nights"
EDITS = {  # (kind, name) -> a hand edit of the live object
    ("Deployment", "cart-v1"): lambda o: _container(o).__setitem__("image", "cart:hotfix"),
    ("PeerAuthentication", "default"): lambda o: o["spec"].__setitem__(
        "mtls", {"mode": "PERMISSIVE"}
    ),
}


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
    return first


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    env = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    done = subprocess.run(["git", *env, *args], cwd=cwd, input=stdin, capture_output=True)
    if done.returncode:
        raise SystemExit(f"git {args[0]}: {done.stderr.decode().strip()}")
    return done.stdout.decode()


def scratch(root: Path) -> tuple[Path, Path]:
    """A repository with the cluster's desired state, and a live dump with hand edits."""
    repo = root / "repo"
    folder = f"dist/{ENV}/{CLUSTER}"
    shutil.copytree(REPO / folder, repo / folder)
    shutil.copy(REPO / f"{folder}.provenance.json", repo / f"{folder}.provenance.json")
    (repo / "environments").mkdir()
    shutil.copy(REPO / f"environments/{ENV}.yaml", repo / f"environments/{ENV}.yaml")
    git(root, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "dist")
    live = root / "live"
    edited = 0
    for path in sorted((repo / folder).rglob("*.yaml")):
        obj = yaml.safe_load(path.read_text())
        edit = EDITS.get((obj["kind"], obj["metadata"]["name"]))
        if edit:
            edit(obj)
            edited += 1
        target = live / path.relative_to(repo / folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(obj))
    if edited != len(EDITS):
        raise SystemExit(f"only {edited} of {len(EDITS)} objects to edit found in {folder}")
    return repo, live


def drift(repo: Path, live: Path, branch: str) -> tuple[float, float]:
    """Wall seconds of one `meshops drift --snapshot` process, and the CPU seconds it and
    its git children used (the cost that does not depend on what else the machine runs)."""
    argv = [str(REPO / ".venv/bin/meshops"), "drift", "--env", ENV, "--cluster", CLUSTER]
    argv += ["--repo", str(repo), "--live-dir", str(live), "--snapshot"]
    argv += ["--snapshot-branch", branch, "--format", "json", "--output", "/dev/null"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"meshops drift failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def nights(repo: Path, live: Path, count: int) -> str:
    """Branch LONG with `count` nightly snapshots (one commit each); its tip."""
    drift(repo, live, LONG)  # one real run: its files are every night's files
    tip = git(repo, "rev-parse", f"refs/heads/{LONG}").strip()
    [folder] = git(repo, "ls-tree", "--name-only", f"{tip}:{ENV}/{CLUSTER}").split()
    files = gitrepo.read_tree(gitrepo.open_repo(repo), tip, f"{ENV}/{CLUSTER}/{folder}")
    git(repo, "update-ref", "-d", f"refs/heads/{LONG}")
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(days=count + 1)
    stream = [b"feature done\n"]
    for mark, (_, data) in enumerate(sorted(files.items()), 1):
        stream += [b"blob\nmark :%d\ndata %d\n" % (mark, len(data)), data, b"\n"]
    for night in range(count):
        when = first + timedelta(days=night)
        where = f"{ENV}/{CLUSTER}/{when:%Y%m%dT%H%M%SZ}"
        message = f"meshops drift {where}\n".encode()
        stamp = int(when.timestamp())
        stream += [
            f"commit refs/heads/{LONG}\n".encode(),
            f"committer bench <bench@localhost> {stamp} +0000\n".encode(),
            b"data %d\n" % len(message),
            message,
        ]
        for mark, name in enumerate(sorted(files), 1):
            stream.append(f"M 100644 :{mark} {where}/{name}\n".encode())
        stream.append(b"\n")
    stream.append(b"done\n")
    git(repo, "fast-import", "--quiet", stdin=b"".join(stream))
    git(repo, "gc", "--quiet")  # packed, as a clone of the snapshot branch is
    return git(repo, "rev-parse", f"refs/heads/{LONG}").strip()


def history_step(repo: Path, live: Path, branch: str) -> float:
    """Seconds of reading the previous index and tracking tonight's report, in-process."""
    options = run.Options(ENV, CLUSTER, repo, live_dir=live)
    report, _ = run.run(options)
    opened = gitrepo.open_repo(repo)
    started = time.perf_counter()
    before = history.previous(opened, [f"refs/heads/{branch}"], ENV, CLUSTER)
    history.track(report, before)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meshops-bench-history-") as tmp:
        repo, live = scratch(Path(tmp))
        tip = nights(repo, live, args.nights)
        commits = int(git(repo, "rev-list", "--count", tip))
        empty, full = [], []
        for _ in range(args.repeat):
            git(repo, "update-ref", "-d", f"refs/heads/{EMPTY}")
            empty.append(drift(repo, live, EMPTY))
            git(repo, "update-ref", f"refs/heads/{LONG}", tip)
            full.append(drift(repo, live, LONG))
        git(repo, "update-ref", f"refs/heads/{LONG}", tip)
        step_full = min(history_step(repo, live, LONG) for _ in range(args.repeat))
        step_none = min(history_step(repo, live, EMPTY) for _ in range(args.repeat))
    wall_empty, wall_full = (statistics.median(w for w, _ in runs) for runs in (empty, full))
    cpu_empty, cpu_full = (statistics.median(c for _, c in runs) for runs in (empty, full))
    print(f"snapshot branch: {commits} nightly commits of {ENV}/{CLUSTER}")
    print(f"meshops drift --snapshot (median of {args.repeat}, wall / CPU incl. git children):")
    print(f"  no history:   {wall_empty:.3f} s / {cpu_empty:.3f} s")
    print(f"  {commits} nights: {wall_full:.3f} s / {cpu_full:.3f} s")
    print(f"history step alone: {step_full * 1000:.1f} ms with {commits} nights, "
          f"{step_none * 1000:.1f} ms with one")  # fmt: skip
    print(f"ratio, CPU (target <= 1.1): {cpu_full / cpu_empty:.3f}")
    print(f"ratio, wall (this machine's load included): {wall_full / wall_empty:.3f}")


if __name__ == "__main__":
    main()
