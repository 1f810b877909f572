"""Start-up and exit tricks of the meshops process: each one off with `MESHOPS_PLAIN=1`.

- `imported`: synth waits about half a second on a pipe while importing cdk8s starts node
  and loads the constructs and cdk8s assemblies; the pydantic models of the environment
  files, which never touch node, take most of that to import, so a thread imports them
  meanwhile. Each module is still imported once: Python's import locks make a thread that
  needs a module the other is importing wait for it, and config never imports what imports
  cdk8s (the layer contracts in pyproject.toml), so the two threads cannot deadlock.
- `collector_paused`: drift builds a few hundred thousand small maps and lists (git's
  objects and the live ones) that hold no reference cycles and live until the report is
  built; the cyclic collector would rescan them again and again as they grow (a fifth of a
  2,300-object run). Reference counting still frees everything; cycles wait for the end.
  Import holds the same kind of data (the sources, the file's data, text and nodes, the
  rendered objects): half of its time on the estate went to the collector.
- `leave`: after a synth, the interpreter's teardown of every object (the construct tree,
  jsii's object maps) took 0.1-0.15 s of 1.4-1.6 s (docs/development.md, "Performance"); the
  console script runs the exit handlers (jsii stops node, temporary files go) and leaves
  without it, once stdout and stderr are flushed.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn

from charts_py import speed

THREAD = "meshops-import"


def imported(first: Sequence[str], meanwhile: Sequence[str]) -> None:
    """Import `first` in order here while a thread imports `meanwhile`; on return every one
    is imported and the thread gone (a worker forked later inherits no thread). An import
    failing on the thread is raised here."""
    if speed.plain():
        for name in (*first, *meanwhile):
            importlib.import_module(name)
        return
    failed: list[BaseException] = []
    thread = threading.Thread(target=_import, args=(meanwhile, failed), name=THREAD, daemon=True)
    thread.start()
    try:
        for name in first:
            importlib.import_module(name)
    finally:
        thread.join()
    if failed:
        raise failed[0]


def _import(names: Sequence[str], failed: list[BaseException]) -> None:
    try:
        for name in names:
            importlib.import_module(name)
    except BaseException as exc:  # raised in the caller's thread, not printed by this one
        failed.append(exc)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (if it was on)."""
    enabled = gc.isenabled() and not speed.plain()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def leave(code: int) -> NoReturn:
    """Exit with `code`: the exit handlers run and the output is flushed, then the process
    ends without the interpreter's teardown of every object."""
    if speed.plain():
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)
