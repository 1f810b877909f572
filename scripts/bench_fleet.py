"""Benchmark the fleet page: `meshops report --fleet` over a snapshot branch holding a year
of nightly runs of 500 clusters (target: 5 s).

The branch is built with `git fast-import`: 50 environments of 10 clusters, 365 nights, one
commit per night adding every cluster's snapshot folder (report.json, report.md and
findings.json, as `meshops drift --snapshot` writes them; each cluster's latest index is its
own, with a few open findings in every state). The main branch holds the 50 environment
files (their `drift.schedule`). Timed: the whole command in a fresh process (best of 3), and
reading plus rendering in-process.

    .venv/bin/python scripts/bench_fleet.py [--envs 50] [--clusters 10] [--nights 365]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from charts_py import gitrepo  # noqa: E402
from charts_py.report import fleet  # noqa: E402

BRANCH = "meshops/snapshots"
STATES = ("new", "persisting", "persisting", "regressed", "waived")
SEVERITIES = ("critical", "high", "medium", "low")


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    env = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    done = subprocess.run(["git", *env, *args], cwd=cwd, input=stdin, capture_output=True)
    if done.returncode:
        raise SystemExit(f"git {args[0]}: {done.stderr.decode().strip()}")
    return done.stdout.decode()


def index(env: str, cluster: str, started: datetime, seed: int) -> bytes:
    """A findings index as a run of (env, cluster) at `started` writes it."""
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    findings = [
        {
            "id": f"{seed:08x}{i:08x}",
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "namespace": "shop",
            "name": f"svc-{i}",
            "path": f"/spec/http/{i}/timeout",
            "state": STATES[(seed + i) % len(STATES)],
            "severity": SEVERITIES[(seed + i) % len(SEVERITIES)],
            "firstSeen": (started - timedelta(days=i * 3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lastSeen": stamp,
            "runs": i * 3 + 1,
        }
        for i in range(seed % 6)
    ]
    data = {
        "indexVersion": 1,
        "env": env,
        "cluster": cluster,
        "startedAt": stamp,
        "finishedAt": stamp,
        "complete": seed % 17 != 0,
        "verdict": "Drift found" if findings else "In sync",
        "errors": [],
        "findings": findings,
        "resolved": [],
    }
    return (json.dumps(data, indent=1) + "\n").encode()


def build(root: Path, envs: int, clusters: int, nights: int) -> Path:
    repo = root / "fleet"
    git(root, "init", "-q", "-b", "main", str(repo))
    (repo / "environments").mkdir()
    for e in range(envs):
        (repo / f"environments/env-{e:02d}.yaml").write_text('drift:\n  schedule: "17 3 * * *"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "environments")
    report = b'{"schemaVersion": 4, "resources": []}\n'
    markdown = b"# Drift report\n"
    old = index("old", "old", datetime(2025, 1, 1, tzinfo=UTC), 1)
    stream = [b"feature done\n"]
    for mark, data in enumerate((report, markdown, old), 1):
        stream += [b"blob\nmark :%d\ndata %d\n" % (mark, len(data)), data, b"\n"]
    last = datetime.now(UTC).replace(hour=3, minute=17, second=0, microsecond=0)
    first = last - timedelta(days=nights - 1)
    for night in range(nights):
        when = first + timedelta(days=night)
        message = f"meshops drift, night {night + 1}\n".encode()
        stream += [
            f"commit refs/heads/{BRANCH}\n".encode(),
            f"committer bench <bench@localhost> {int(when.timestamp())} +0000\n".encode(),
            b"data %d\n" % len(message),
            message,
        ]
        for e in range(envs):
            for c in range(clusters):
                where = f"env-{e:02d}/c-{c:02d}/{when:%Y%m%dT%H%M%SZ}"
                stream += [
                    f"M 100644 :1 {where}/report.json\n".encode(),
                    f"M 100644 :2 {where}/report.md\n".encode(),
                ]
                if night < nights - 1:
                    stream.append(f"M 100644 :3 {where}/findings.json\n".encode())
                    continue
                # The last night: every cluster's own index; a few clusters stopped earlier.
                seed = e * clusters + c
                ran = when - timedelta(days=3) if seed % 23 == 0 else when
                data = index(f"env-{e:02d}", f"c-{c:02d}", ran, seed)
                stream += [
                    f"M 100644 inline {where}/findings.json\n".encode(),
                    b"data %d\n" % len(data),
                    data,
                ]
        stream.append(b"\n")
    stream.append(b"done\n")
    git(repo, "fast-import", "--quiet", stdin=b"".join(stream))
    git(repo, "gc", "--quiet")
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=50)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--nights", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meshops-bench-fleet-") as tmp:
        started = time.perf_counter()
        repo = build(Path(tmp), args.envs, args.clusters, args.nights)
        built = time.perf_counter() - started
        folders = args.envs * args.clusters * args.nights
        argv = [str(REPO / ".venv/bin/meshops"), "report", "--fleet", "--repo", str(repo)]
        argv += ["--output", str(Path(tmp) / "fleet.html")]
        wall = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            wall.append(time.perf_counter() - started)
        opened = gitrepo.open_repo(repo)
        started = time.perf_counter()
        now = datetime.now(UTC)
        rows = fleet.read(opened, BRANCH, "HEAD", now)
        fleet.page(rows, now)
        inside = time.perf_counter() - started
        stale = sum(r.stale for r in rows)
    print(f"snapshot branch: {args.nights} commits, {folders:,} snapshot folders "
          f"({len(rows)} clusters; built in {built:.1f} s)")  # fmt: skip
    print(f"meshops report --fleet: {min(wall):.2f} s (best of 3; {stale} clusters stale)")
    print(f"read + render in-process: {inside:.2f} s")
    print(f"target <= 5 s: {'met' if min(wall) <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
