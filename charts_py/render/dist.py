"""Write dist/ all at once, or compare it with what would be written.

A synth builds the complete new tree in a temporary sibling folder and swaps it in with two
renames, so a failure at any point leaves dist/ exactly as it was, and files of removed
services or environments disappear because they are simply not in the new tree.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from charts_py import speed


@dataclass(frozen=True)
class Changes:
    """How a rendered tree differs from dist/ (paths relative to dist/)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def read_tree(root: Path, tops: Collection[str] | None = None) -> dict[str, bytes]:
    """Every file under `root` (limited to the top-level folders `tops`), by relative path."""
    if not root.is_dir():
        return {}
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and (tops is None or rel.split("/", 1)[0] in tops):
            files[rel] = path.read_bytes()
    return files


def compare(dist: Path, files: dict[str, bytes], tops: Collection[str] | None) -> Changes:
    """What writing `files` would change in `dist` (within `tops`, or everywhere)."""
    current = read_tree(dist, tops)
    return Changes(
        added=sorted(set(files) - set(current)),
        removed=sorted(set(current) - set(files)),
        changed=sorted(p for p in files.keys() & current.keys() if files[p] != current[p]),
    )


def write(
    dist: Path,
    files: dict[str, bytes],
    tops: Collection[str] | None,
    gate: Callable[[], object] = lambda: None,
) -> Changes:
    """Replace `dist` with `files`; with `tops`, only those top-level folders are replaced.

    `gate` is called once the new tree is staged, just before it is swapped in: if it
    raises, dist/ stays as it was (synth waits for validation there, so both overlap).
    """
    with Stager(dist) as stager:
        stager.add(files)
        return stager.finish(tops, gate)


def _swap(new: Path, dist: Path) -> None:
    if not dist.exists():
        os.rename(new, dist)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dist.name}.old-", dir=dist.parent))
    os.rename(dist, old / dist.name)
    try:
        os.rename(new, dist)
    except OSError:
        os.rename(old / dist.name, dist)  # put the previous tree back
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


class Stager:
    """dist/'s new tree, written while a synth still renders its files.

    A synth hands over its files a few hundred at a time as it renders them (`add`); a
    thread writes them into a staging folder beside dist/ meanwhile: creating the sample's
    820 files took 0.02 s in one folder of a disk and 0.9 s in another (docs/development.md,
    "Performance"), time the thread spends while this process renders the next files and
    the validation worker runs its rules. A file equal to dist/'s is hard-linked from it, not
    written; nothing is staged until one differs, so a synth that changes nothing writes
    nothing. `finish` swaps the tree in (what `write` does for a tree handed over whole);
    leaving the block without it removes the staging folder.
    """

    def __init__(self, dist: Path) -> None:
        self._dist = dist
        self._files: dict[str, bytes] = {}
        self._equal: list[str] = []
        """Files found equal to dist/'s before anything was staged (linked once it starts)."""
        self._staging: Path | None = None
        self._folders: set[Path] = set()
        self._failed: list[BaseException] = []
        self._queue: queue.SimpleQueue[dict[str, bytes] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="meshops-stage", daemon=True)
        # Started by the first `add`: after synth has forked its validation worker, which
        # then inherits no thread (speed/fork.py).

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def add(self, files: dict[str, bytes]) -> None:
        """More files of the new tree (paths relative to dist/), to be staged now (by the
        thread; here, with `MESHOPS_PLAIN=1`)."""
        self._files |= files
        if speed.plain():
            for rel, data in files.items():
                self._stage(rel, data)
            return
        self._queue.put(dict(files))
        if self._thread.ident is None:
            self._thread.start()

    def finish(self, tops: Collection[str] | None, gate: Callable[[], object]) -> Changes:
        """`write` of every file added: the staged tree swapped in once `gate` returned
        (if it raises, dist/ stays as it was), unless nothing changed."""
        self._stop()
        if self._failed:
            raise self._failed[0]
        changes = compare(self._dist, self._files, tops)
        if changes.empty and self._dist.is_dir():
            gate()
            return changes
        staging = self._begun()
        if tops is not None:
            kept = [p for p in read_tree(self._dist) if p.split("/", 1)[0] not in tops]
            for rel in kept:
                self._link(rel, staging)
        gate()
        _swap(staging, self._dist)
        self._staging = None
        return changes

    def _stop(self) -> None:
        if self._thread.ident is None:  # nothing was added: the thread never started
            return
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            while (files := self._queue.get()) is not None:
                for rel, data in files.items():
                    self._stage(rel, data)
        except BaseException as exc:  # raised by `finish`, in the synth's thread
            self._failed.append(exc)

    def _stage(self, rel: str, data: bytes) -> None:
        if _current(self._dist / rel) != data:
            self._folder(self._begun() / rel).write_bytes(data)
        elif self._staging is None:
            self._equal.append(rel)
        else:
            self._link(rel, self._staging)

    def _begun(self) -> Path:
        """The staging folder, made on first use (beside dist/: the swap is a rename) with
        the files found equal until then."""
        if self._staging is None:
            self._dist.parent.mkdir(parents=True, exist_ok=True)
            prefix = f".{self._dist.name}.new-"
            self._staging = Path(tempfile.mkdtemp(prefix=prefix, dir=self._dist.parent))
            for rel in self._equal:
                self._link(rel, self._staging)
        return self._staging

    def _link(self, rel: str, staging: Path) -> None:
        """dist/'s file at `rel`, into the staging folder: a hard link (the old tree is
        removed after the swap, so no file stays shared), else a copy of its bytes."""
        target = self._folder(staging / rel)
        try:
            os.link(self._dist / rel, target)
        except OSError:  # a file system without hard links
            target.write_bytes((self._dist / rel).read_bytes())

    def _folder(self, path: Path) -> Path:
        """`path`, its folder made (once per folder)."""
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        return path


def _current(path: Path) -> bytes | None:
    """The bytes of dist/'s file at `path`, None if there is none."""
    try:
        return path.read_bytes()
    except OSError:
        return None
