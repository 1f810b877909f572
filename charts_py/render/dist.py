"""Write dist/ all at once, or compare it with what would be written.

A synth builds the complete new tree in a temporary sibling folder and swaps it in with two
renames, so a failure at any point leaves dist/ exactly as it was, and files of removed
services or environments disappear because they are simply not in the new tree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path


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
    changes = compare(dist, files, tops)
    if changes.empty and dist.is_dir():
        gate()
        return changes
    dist.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dist.name}.new-", dir=dist.parent))
    try:
        kept = (
            {}
            if tops is None
            else {p: b for p, b in read_tree(dist).items() if p.split("/", 1)[0] not in tops}
        )
        everything = {**kept, **files}
        for folder in sorted({(staging / rel).parent for rel in everything}):
            folder.mkdir(parents=True, exist_ok=True)  # once per folder, not per file
        for rel, data in everything.items():
            (staging / rel).write_bytes(data)
        gate()
        _swap(staging, dist)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changes


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
