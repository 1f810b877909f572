"""One forked worker: a function run in a child forked from this process, and our end of its pipe.

The child inherits everything this process holds (the environments, git's files): nothing is
pickled on the way in. It runs `target(their_end, *args)` and talks through the pipe; when
the caller is done (or fails), `stop` closes our end, so a child still waiting reads EOF and
a child still sending gets a broken pipe, then terminates a child still running and reaps it.

`usable` says whether to fork at all: not where fork is missing (Windows), not with fewer
cores than the work wants, never with `MESHOPS_PLAIN=1`. The caller then does the work in
this process, with the same result.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from charts_py import speed


def usable(cores: int = 1) -> bool:
    """Whether a worker may be forked here: fork exists, at least `cores` CPUs are ours, and
    the tricks are on."""
    return (
        not speed.plain()
        and "fork" in multiprocessing.get_all_start_methods()
        and _cores() >= cores
    )


class Worker:
    """A forked child running `target(their_end, *args)`; `conn` is our end of the pipe
    (with `duplex=False`, the child only sends and we only receive)."""

    def __init__(self, target: Callable[..., None], *args: Any, duplex: bool = True) -> None:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe(duplex)
        self._process = context.Process(target=target, args=(theirs, *args), daemon=True)
        self._process.start()
        theirs.close()
        self.conn: Connection = ours

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def exit_code(self) -> int | None:
        """The child's exit code, once it has ended (waits for it)."""
        self._process.join()
        return self._process.exitcode

    def stop(self) -> None:
        """Close our end, stop the child if it still runs, and reap it."""
        self.conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def shared_ints(values: Sequence[int]) -> Any:
    """64-bit integers this process and a worker forked later both see, with a lock
    (`.get_lock()`): a POSIX semaphore, so OSError where /dev/shm is missing."""
    return multiprocessing.get_context("fork").Array("q", list(values))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
