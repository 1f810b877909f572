"""The speed tricks (charts_py/speed/) each do what they promise, and MESHOPS_PLAIN=1 turns
each one off. That the results are the same either way: tests/unit/test_plain.py."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from charts_py import speed
from charts_py.speed import fork, process


def test_imports_are_done_and_the_thread_gone_on_return(
    speed_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.3)\ndone = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[str] = []
    monkeypatch.setattr(threading.Thread, "start", _recording(threading.Thread.start, seen))
    process.imported(("json",), meanwhile=("slow_to_import",))
    assert sys.modules["slow_to_import"].done  # imported whole, not still sleeping
    assert not [t for t in threading.enumerate() if t.name == process.THREAD]
    assert seen == ([process.THREAD] if speed_mode == "tricks" else [])
    monkeypatch.delitem(sys.modules, "slow_to_import")


def _recording(
    start: Callable[[threading.Thread], None], seen: list[str]
) -> Callable[[threading.Thread], None]:
    def recorded(thread: threading.Thread) -> None:
        seen.append(thread.name)
        start(thread)

    return recorded


def test_an_import_failing_on_the_thread_fails_the_caller(speed_mode: str) -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        process.imported(("json",), meanwhile=("charts_py.no_such_module",))


def test_the_collector_is_paused_only_with_the_tricks_on(speed_mode: str) -> None:
    assert gc.isenabled()
    with process.collector_paused():
        assert gc.isenabled() is (speed_mode == "plain")
    assert gc.isenabled()


def _echo(conn: Connection) -> None:
    conn.send(conn.recv() * 2)
    conn.close()


def test_a_worker_is_forked_only_with_the_tricks_on(speed_mode: str) -> None:
    assert fork.usable() is (speed_mode == "tricks")
    if speed_mode == "tricks":
        worker = fork.Worker(_echo)
        worker.conn.send(21)
        assert worker.conn.recv() == 42
        assert worker.exit_code() == 0  # waits: a worker that did its job ends by itself
        worker.stop()


def _dies(conn: Connection) -> None:
    raise SystemExit(3)


def test_a_worker_that_dies_says_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(speed.SWITCH, raising=False)
    worker = fork.Worker(_dies, duplex=False)
    with pytest.raises(EOFError):
        worker.conn.recv()
    assert worker.exit_code() == 3
    worker.stop()


LEAVE = """
import atexit, sys
from charts_py.speed import process
atexit.register(lambda: print("exit handler ran", flush=True))
class Teardown:
    def __del__(self): print("teardown ran", flush=True)
kept = Teardown()
print("x" * 100_000)
process.leave(4)
"""


def test_leaving_runs_the_exit_handlers_and_skips_teardown_unless_plain(speed_mode: str) -> None:
    done = subprocess.run([sys.executable, "-c", LEAVE], capture_output=True, text=True)
    assert done.returncode == 4
    lines = done.stdout.splitlines()
    assert lines[0] == "x" * 100_000 and "exit handler ran" in lines
    assert ("teardown ran" in lines) is (speed_mode == "plain")


def test_the_command_line_loads_without_the_environment_models() -> None:
    """synth imports the pydantic models on a thread while node starts (process.imported):
    a command module importing them at the top would put their import, a third of a
    second, before node's start instead of beside it."""
    code = "import sys, charts_py.cli; print(sorted(m for m in sys.modules if m in {0}))"
    heavy = {"pydantic", "charts_py.config.model", "cdk8s", "jsonschema"}
    out = subprocess.run(
        [sys.executable, "-c", code.format(sorted(heavy))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"
