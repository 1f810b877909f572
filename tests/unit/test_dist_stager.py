"""dist.Stager (and dist.write, a Stager handed the whole tree): a synth's new tree staged
while it renders, swapped in whole or not at all, and nothing staged when nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from charts_py.render import dist

OLD = {
    "prod/east/a.yaml": b"a\n",
    "prod/east/b.yaml": b"b\n",
    "prod/README.md": b"prod\n",
    "dev/one/c.yaml": b"c\n",
}


def _staged(root: Path, batches: list[dict[str, bytes]], tops: set[str] | None) -> dist.Changes:
    with dist.Stager(root / "dist") as stager:
        for files in batches:
            stager.add(files)
        return stager.finish(tops, gate=lambda: None)


def _written(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / "dist" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "dist" / rel).write_bytes(data)


def test_a_fresh_dist_is_written_whole_and_nothing_is_left_beside(
    tmp_path: Path, speed_mode: str
) -> None:
    changes = _staged(tmp_path, [dict(list(OLD.items())[:2]), dict(list(OLD.items())[2:])], None)
    assert dist.read_tree(tmp_path / "dist") == OLD
    assert changes.added == sorted(OLD) and not changes.changed and not changes.removed
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_the_same_tree_again_stages_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _written(tmp_path, OLD)
    made: list[str] = []
    real = dist.tempfile.mkdtemp
    monkeypatch.setattr(dist.tempfile, "mkdtemp", lambda **kw: made.append("x") or real(**kw))
    inode = (tmp_path / "dist").stat().st_ino
    changes = _staged(tmp_path, [OLD], None)
    assert changes.empty and made == []
    assert (tmp_path / "dist").stat().st_ino == inode  # not even swapped


def test_a_change_swaps_in_the_whole_new_tree(tmp_path: Path, speed_mode: str) -> None:
    _written(tmp_path, OLD)
    new = {**OLD, "prod/east/b.yaml": b"b2\n", "prod/west/d.yaml": b"d\n"}
    del new["dev/one/c.yaml"]
    changes = _staged(tmp_path, [new], None)
    assert dist.read_tree(tmp_path / "dist") == new
    assert changes.changed == ["prod/east/b.yaml"] and changes.added == ["prod/west/d.yaml"]
    assert changes.removed == ["dev/one/c.yaml"]
    assert all(p.stat().st_nlink == 1 for p in (tmp_path / "dist").rglob("*.yaml"))
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_a_change_late_in_the_tree_keeps_the_files_found_equal_before_it(tmp_path: Path) -> None:
    _written(tmp_path, OLD)
    new = {**OLD, "dev/one/c.yaml": b"c2\n"}
    _staged(tmp_path, [{k: v} for k, v in new.items()], None)
    assert dist.read_tree(tmp_path / "dist") == new


def test_folders_outside_the_tops_are_kept(tmp_path: Path) -> None:
    _written(tmp_path, OLD)
    new = {"prod/east/a.yaml": b"a2\n"}
    changes = _staged(tmp_path, [new], {"prod"})
    assert dist.read_tree(tmp_path / "dist") == {
        "prod/east/a.yaml": b"a2\n",
        "dev/one/c.yaml": b"c\n",
    }
    assert changes.removed == ["prod/README.md", "prod/east/b.yaml"]


def test_only_removals_are_swapped_in_too(tmp_path: Path) -> None:
    _written(tmp_path, OLD)
    new = {k: v for k, v in OLD.items() if not k.startswith("dev/")}
    changes = _staged(tmp_path, [new], None)
    assert dist.read_tree(tmp_path / "dist") == new and changes.removed == ["dev/one/c.yaml"]


def test_a_gate_that_raises_leaves_dist_as_it_was(tmp_path: Path, speed_mode: str) -> None:
    _written(tmp_path, OLD)

    def refuse() -> None:
        raise ValueError("validation failed")

    with pytest.raises(ValueError), dist.Stager(tmp_path / "dist") as stager:
        stager.add({**OLD, "prod/east/a.yaml": b"changed\n"})
        stager.finish(None, gate=refuse)
    assert dist.read_tree(tmp_path / "dist") == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]


def test_leaving_without_finishing_removes_what_was_staged(tmp_path: Path) -> None:
    with pytest.raises(KeyError), dist.Stager(tmp_path / "dist") as stager:
        stager.add(OLD)
        raise KeyError("a chart failed")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_staged_fails_the_synth(tmp_path: Path, speed_mode: str) -> None:
    """`a.yaml` both a file and a folder: the thread's error is raised in the caller (by
    `finish`; plain, by `add`)."""
    with pytest.raises(OSError), dist.Stager(tmp_path / "dist") as stager:
        stager.add({"prod/a.yaml": b"a\n"})
        stager.add({"prod/a.yaml/b.yaml": b"b\n"})
        stager.finish(None, gate=lambda: None)
    assert list(tmp_path.iterdir()) == []
