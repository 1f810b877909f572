"""Background processes of the local sandbox: started in their own session, stopped by pid.

Every process meshops starts (etcd, kube-apiserver, Argo CD's components, redis, the git
server) outlives the command that started it, writes its log next to its pid file, and is
stopped only by the pid recorded for it, after /proc confirms the pid still runs that
program: a recycled pid is never killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

STOP_GRACE = 10.0


def start(
    state_dir: Path, name: str, argv: list[str], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Run `argv` in its own session, logging to `<state_dir>/<name>.log`."""
    log = (state_dir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    (state_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie child of ours has exited: it is reaped here)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def stop(pid: int, program: str) -> bool:
    """SIGTERM, then SIGKILL after STOP_GRACE; only if /proc says `pid` still runs `program`
    (the basename of its argv[0], or of the script a Python argv[0] runs)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # redis-server rewrites its argv into one "path host:port" string: compare first words.
    if not any(arg.split(b" ")[0].endswith(program.encode()) for arg in argv[:3]):
        return False  # the pid was recycled by another program: not ours to kill
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True
