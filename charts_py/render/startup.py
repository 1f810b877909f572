"""Import synth with node's start-up overlapped.

Importing cdk8s starts jsii's node process and loads the constructs and cdk8s assemblies:
about half a second in which this process waits on a pipe. The environment models
(pydantic), which never touch node, take most of that to import, so a thread imports them
meanwhile (the validation rules are imported by the validation worker, see checks). Each
module is still imported once: Python's import locks make a thread that needs a module the
other is importing wait for it, and config never imports what imports cdk8s (the layer
contracts in pyproject.toml), so the two threads cannot deadlock.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

PURE_PYTHON = ("charts_py.config.environment",)
"""What synth imports that needs no node and is slow to import: the pydantic models."""
NODE_BOUND = "cdk8s"
"""What starts node (and loads the constructs and cdk8s assemblies) when imported."""


@contextmanager
def overlapped() -> Iterator[None]:
    """Import `PURE_PYTHON` on a thread while the block imports the rest; on leaving, every
    import is done and the thread gone (the validation worker is forked later)."""
    failed: list[BaseException] = []
    thread = threading.Thread(target=_import, args=(failed,), name="meshops-import", daemon=True)
    thread.start()
    try:
        # Node first: whatever the block imports next may wait on a module the thread is
        # importing (Python's import lock), and node's start-up is what there is to overlap.
        importlib.import_module(NODE_BOUND)
        yield
    finally:
        thread.join()
    if failed:
        raise failed[0]


def _import(failed: list[BaseException]) -> None:
    try:
        for name in PURE_PYTHON:
            importlib.import_module(name)
    except BaseException as exc:  # raised in the caller's thread, not printed by this one
        failed.append(exc)
