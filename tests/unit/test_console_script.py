"""The installed `meshops` script, as users run it: it leaves through `os._exit` after the
exit handlers (charts_py.cli.entry), so what it prints and its exit code must survive that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "meshops"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_synth_check_prints_its_verdict_and_exits_0() -> None:
    done = run("synth", "--check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dist/ is up to date (")


def test_bad_input_gets_its_one_line_and_exit_2() -> None:
    done = run("synth", "--env", "nope")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "meshops: error: environments/nope.yaml: no such environment "
        "(known: ambient, dev, prod, staging)"
    ]


def test_long_output_through_a_pipe_arrives_whole() -> None:
    done = run("audit", "--env", "prod", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 64 * 1024  # more than one pipe buffer
    assert json.loads(done.stdout)


def test_a_crash_exits_2_could_not_complete_never_1_differences_found() -> None:
    crash = "import charts_py.cli as cli; cli.main = lambda: 1 // 0; cli.entry()"
    done = subprocess.run(
        [sys.executable, "-c", crash], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr.rstrip().endswith("ZeroDivisionError: integer division or modulo by zero")
