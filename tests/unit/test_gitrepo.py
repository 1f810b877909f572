"""Git access on real repositories in tmp_path: reads at a ref, snapshots by plumbing, pushes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from charts_py import gitrepo
from charts_py.errors import ConfigError, SnapshotError

BRANCH = "meshops/snapshots"
ROOT = Path(__file__).resolve().parents[2]

# Commits `count` snapshots named `<tag>-<i>` (pushing each when a remote is given), after
# waiting for the `go` file so that all workers start together.
WORKER = """
import sys, time
from pathlib import Path
from charts_py import gitrepo
path, tag, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
remote = sys.argv[5] if len(sys.argv) > 5 else None
repo = gitrepo.open_repo(Path(path))
while not go.exists():
    time.sleep(0.005)
for i in range(count):
    files = {"report.json": f"{tag} {i}".encode()}
    gitrepo.commit_snapshot(repo, "meshops/snapshots", f"{tag}-{i}", files, f"snapshot {tag} {i}")
    if remote:
        gitrepo.push(repo, remote, "meshops/snapshots")
"""


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global or system git config (no user identity) and no identity in the environment."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        for key in ("NAME", "EMAIL", "DATE"):
            monkeypatch.delenv(f"GIT_{role}_{key}", raising=False)


def sh(cwd: Path, *args: str) -> str:
    """Run git in `cwd` as a developer would (with an identity given on the command line)."""
    cmd = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def commit_files(work: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    sh(work, "add", "-A")
    sh(work, "commit", "-q", "-m", message)
    return sh(work, "rev-parse", "HEAD").strip()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A repository with two commits on main; the second changes dist/dev/a.yaml."""
    path = tmp_path / "work"
    sh(tmp_path, "init", "-q", "-b", "main", str(path))
    commit_files(path, {"dist/dev/a.yaml": "a: 1\n", "dist/dev/sub/b.yaml": "b: 1\n"}, "one")
    sh(path, "tag", "v1")
    commit_files(path, {"dist/dev/a.yaml": "a: 2\n", "README": "hi\n"}, "two")
    return path


@pytest.fixture
def repo(work: Path) -> Iterator[git.Repo]:
    opened = gitrepo.open_repo(work)
    yield opened
    opened.close()


def branch_files(work: Path, branch: str = BRANCH) -> list[str]:
    return sorted(sh(work, "ls-tree", "-r", "--name-only", branch).split())


def start_workers(tmp_path: Path, jobs: list[tuple[Path, str, int, str]]) -> None:
    """Run WORKER once per job, all released at the same moment; fail on any worker error."""
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                str(path),
                tag,
                str(count),
                str(go),
                *([remote] * bool(remote)),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path, tag, count, remote in jobs
    ]
    time.sleep(0.5)  # let every worker import and wait at the start line
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


# --- open and resolve -------------------------------------------------------------------------


def test_open_repo_searches_parent_directories(work: Path) -> None:
    found = gitrepo.open_repo(work / "dist" / "dev")
    assert Path(str(found.working_tree_dir)) == work


def test_open_repo_outside_a_repository_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        gitrepo.open_repo(tmp_path / "plain")
    assert str(e.value) == f"{tmp_path / 'plain'}: --repo: not a git repository"


def test_resolve_names_full_commit_shas(work: Path, repo: git.Repo) -> None:
    head = sh(work, "rev-parse", "HEAD").strip()
    first = sh(work, "rev-parse", "v1^{commit}").strip()
    assert gitrepo.resolve(repo) == head
    assert gitrepo.resolve(repo, "main") == head
    assert gitrepo.resolve(repo, "v1") == first
    assert gitrepo.resolve(repo, first[:8]) == first
    assert gitrepo.resolve(repo, "HEAD~1") == first


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("nope", "unknown revision 'nope'"),
        ("-x", "unknown revision '-x'"),
        ("", "unknown revision ''"),
        ("main:README", "'main:README' is a blob, not a commit"),
    ],
)
def test_bad_ref_is_a_one_line_config_error(
    work: Path, repo: git.Repo, ref: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as e:
        gitrepo.resolve(repo, ref)
    assert str(e.value) == f"{work}: --ref: {reason}"


def test_corrupt_ref_is_named(work: Path, repo: git.Repo) -> None:
    (work / ".git" / "refs" / "heads" / "x").write_text("garbage\n")
    with pytest.raises(ConfigError) as e:
        gitrepo.resolve(repo, "x")
    assert str(e.value) == (
        f"{work}: --ref: corrupt ref 'refs/heads/x' (its file does not hold an object name)"
    )


def test_ref_to_a_missing_object_is_named(work: Path, repo: git.Repo) -> None:
    (work / ".git" / "refs" / "heads" / "y").write_text("12" * 20 + "\n")
    with pytest.raises(
        ConfigError, match=f"'y' points to {'12' * 20}, which is not in the repository"
    ):
        gitrepo.resolve(repo, "y")


@pytest.mark.parametrize("ref", ["HEAD", "main", "v1", "HEAD~1"])
def test_peel_resolves_as_resolve_does(repo: git.Repo, ref: str) -> None:
    assert gitrepo.peel(repo, ref) == gitrepo.resolve(repo, ref)


@pytest.mark.parametrize("ref", ["nope", "-x", "", "main:README", "x"])
def test_peel_fails_as_resolve_does(work: Path, repo: git.Repo, ref: str) -> None:
    """What the running cat-file cannot resolve is resolve's to explain (a corrupt ref too)."""
    (work / ".git" / "refs" / "heads" / "x").write_text("garbage\n")
    with pytest.raises(ConfigError) as peeled:
        gitrepo.peel(repo, ref)
    with pytest.raises(ConfigError) as resolved:
        gitrepo.resolve(repo, ref)
    assert str(peeled.value) == str(resolved.value)


def test_entries_lists_a_folder_at_the_commit(work: Path, repo: git.Repo) -> None:
    first = sh(work, "rev-parse", "v1").strip()
    (work / "dist" / "dev" / "untracked.yaml").write_text("u: 1\n")
    assert gitrepo.entries(repo, first, "dist/dev") == ["dist/dev/a.yaml", "dist/dev/sub"]
    assert gitrepo.entries(repo, first, "dist/") == ["dist/dev"]
    assert gitrepo.entries(repo, first, "README") == []  # a file: no entries
    assert gitrepo.entries(repo, first, "nope") == []
    assert gitrepo.entries(repo, "HEAD", "") == ["README", "dist"]


# --- read_tree --------------------------------------------------------------------------------


def test_read_tree_reads_the_commit_not_the_working_tree(work: Path, repo: git.Repo) -> None:
    (work / "dist/dev/a.yaml").write_text("a: edited\n")
    (work / "dist/dev/untracked.yaml").write_text("u: 1\n")
    (work / "dist/dev/sub/b.yaml").unlink()
    assert gitrepo.read_tree(repo, "HEAD", "dist/dev") == {
        "a.yaml": b"a: 2\n",
        "sub/b.yaml": b"b: 1\n",
    }
    assert gitrepo.read_tree(repo, "v1", "dist/dev/")["a.yaml"] == b"a: 1\n"
    assert list(gitrepo.read_tree(repo, "HEAD", "")) == [
        "README",
        "dist/dev/a.yaml",
        "dist/dev/sub/b.yaml",
    ]


def test_read_file_reads_one_blob_at_the_commit(work: Path, repo: git.Repo) -> None:
    (work / "dist" / "dev" / "a.yaml").write_text("changed in the working tree\n")
    sha = gitrepo.resolve(repo, "v1")
    assert gitrepo.read_file(repo, sha, "dist/dev/a.yaml") == b"a: 1\n"
    assert gitrepo.read_file(repo, sha, "dist/dev/missing.yaml") is None
    assert gitrepo.read_file(repo, sha, "dist/dev") is None  # a folder, not a file


def test_read_tree_reads_blobs_as_committed(work: Path, repo: git.Repo) -> None:
    """.gitattributes that `git archive` obeys (export-subst, export-ignore) change nothing;
    a symlink is not a file; names with spaces and non-ASCII letters come through."""
    files = {
        ".gitattributes": "*.yaml export-subst\nhidden.yaml export-ignore\n",
        "dist/dev/subst.yaml": "commit: $Format:%H$\n",
        "dist/dev/hidden.yaml": "h: 1\n",
        "dist/dev/naïve name.yaml": "n: 1\n",
    }
    commit_files(work, files, "attributes")
    (work / "dist/dev/link.yaml").symlink_to("a.yaml")
    sh(work, "add", "-A")
    sh(work, "commit", "-q", "-m", "a symlink")
    tree = gitrepo.read_tree(repo, "HEAD", "dist/dev")
    assert tree["subst.yaml"] == b"commit: $Format:%H$\n"
    assert tree["hidden.yaml"] == b"h: 1\n"
    assert tree["naïve name.yaml"] == b"n: 1\n"
    assert "link.yaml" not in tree
    assert list(tree) == sorted(tree)


def test_read_tree_missing_path_names_path_and_commit(work: Path, repo: git.Repo) -> None:
    sha = gitrepo.resolve(repo, "v1")
    with pytest.raises(ConfigError) as e:
        gitrepo.read_tree(repo, "v1", "dist/prod/prod-east")
    assert str(e.value) == f"{work}: dist/prod/prod-east: not found at commit {sha[:12]}"


def test_read_tree_of_a_file_is_an_error(repo: git.Repo) -> None:
    with pytest.raises(ConfigError, match="README: not a directory at commit"):
        gitrepo.read_tree(repo, "HEAD", "README")


def test_read_tree_at_a_bad_ref_is_a_config_error(repo: git.Repo) -> None:
    with pytest.raises(ConfigError, match="unknown revision 'nope'"):
        gitrepo.read_tree(repo, "nope", "dist/dev")


# --- commit_snapshot --------------------------------------------------------------------------


def test_snapshot_creates_the_branch_as_a_root_commit(work: Path, repo: git.Repo) -> None:
    files = {"report.json": b"{}\n", "Secret.core.ns.x.yaml": b"\x00\xffbinary\r\n"}
    sha = gitrepo.commit_snapshot(repo, BRANCH, "dev/dev-1/20250101T000000Z", files, "first")
    assert sh(work, "rev-parse", BRANCH).strip() == sha
    assert sh(work, "rev-list", "--parents", BRANCH).split() == [sha]  # no parent
    assert gitrepo.read_tree(repo, BRANCH, "dev/dev-1/20250101T000000Z") == dict(
        sorted(files.items())
    )
    assert sh(work, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", BRANCH).strip() == (
        "meshops <meshops@localhost>|meshops <meshops@localhost>|first"
    )


def test_snapshot_on_an_existing_branch_keeps_earlier_snapshots(work: Path, repo: git.Repo) -> None:
    first = gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    second = gitrepo.commit_snapshot(repo, BRANCH, "dev/c/2", {"report.json": b"2"}, "two")
    assert sh(work, "rev-list", "--parents", "-1", BRANCH).split() == [second, first]
    assert branch_files(work) == ["dev/c/1/report.json", "dev/c/2/report.json"]


def test_snapshot_uses_the_configured_user(work: Path, repo: git.Repo) -> None:
    sh(work, "config", "user.name", "Night Job")
    sh(work, "config", "user.email", "night@example.com")
    gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    assert sh(work, "log", "-1", "--format=%an <%ae>", BRANCH).strip() == (
        "Night Job <night@example.com>"
    )


def test_snapshot_never_touches_working_tree_index_or_head(work: Path, repo: git.Repo) -> None:
    (work / "dist/dev/a.yaml").write_text("a: dirty\n")
    (work / "README").write_text("staged\n")
    sh(work, "add", "README")
    (work / "new.txt").write_text("untracked\n")

    def state() -> tuple[str, ...]:
        return (
            sh(work, "status", "--porcelain=v1", "--untracked-files=all"),
            sh(work, "diff"),
            sh(work, "diff", "--cached"),
            sh(work, "ls-files", "--stage"),
            sh(work, "symbolic-ref", "HEAD"),
            sh(work, "rev-parse", "HEAD"),
            (work / "dist/dev/a.yaml").read_text(),
            (work / "README").read_text(),
        )

    before = state()
    gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    gitrepo.commit_snapshot(repo, BRANCH, "dev/c/2", {"report.json": b"2"}, "two")
    assert state() == before
    assert not (work / "dev").exists()


def test_snapshot_refuses_the_checked_out_branch(work: Path, repo: git.Repo) -> None:
    with pytest.raises(SnapshotError, match="branch 'main' is checked out"):
        gitrepo.commit_snapshot(repo, "main", "dev/c/1", {"report.json": b"1"}, "one")
    assert branch_files(work, "main") == ["README", "dist/dev/a.yaml", "dist/dev/sub/b.yaml"]


def test_snapshot_refuses_to_overwrite_a_snapshot(repo: git.Repo) -> None:
    gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    with pytest.raises(SnapshotError, match="dev/c/1/ already exists on the snapshot branch"):
        gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"other.json": b"2"}, "again")


@pytest.mark.parametrize(
    ("prefix", "name"),
    [("../up", "a"), ("/abs", "a"), ("", "a"), ("ok", "../a"), ("ok", "a/./b"), ("ok", "a//b")],
)
def test_snapshot_refuses_paths_outside_its_folder(repo: git.Repo, prefix: str, name: str) -> None:
    with pytest.raises(SnapshotError, match="is not a plain relative path"):
        gitrepo.commit_snapshot(repo, BRANCH, prefix, {name: b"x"}, "bad")


def test_snapshot_refuses_a_bad_branch_name(repo: git.Repo) -> None:
    with pytest.raises(SnapshotError, match=r"'bad\.\.name' is not a valid branch name"):
        gitrepo.commit_snapshot(repo, "bad..name", "dev/c/1", {"report.json": b"1"}, "one")


def test_concurrent_processes_lose_no_snapshot(tmp_path: Path, work: Path) -> None:
    start_workers(tmp_path, [(work, "p1", 5, ""), (work, "p2", 5, "")])
    folders = {name.split("/")[0] for name in branch_files(work)}
    assert folders == {f"p{p}-{i}" for p in (1, 2) for i in range(5)}
    history = sh(work, "rev-list", "--parents", BRANCH).splitlines()
    assert len(history) == 10
    assert [len(line.split()) for line in history] == [2] * 9 + [1]  # linear, one root


# --- push -------------------------------------------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, work: Path) -> Path:
    """A bare remote of `work`, and two clones of it: tmp_path/a and tmp_path/b."""
    bare = tmp_path / "remote.git"
    sh(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    for name in ("a", "b"):
        sh(tmp_path, "clone", "-q", str(bare), str(tmp_path / name))
    return bare


def test_push_creates_the_branch_on_the_remote(tmp_path: Path, remote: Path) -> None:
    clone = gitrepo.open_repo(tmp_path / "a")
    sha = gitrepo.commit_snapshot(clone, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    gitrepo.push(clone, "origin", BRANCH)
    assert sh(remote, "rev-parse", BRANCH).strip() == sha


def test_push_after_another_clone_pushed_keeps_both(tmp_path: Path, remote: Path) -> None:
    a, b = gitrepo.open_repo(tmp_path / "a"), gitrepo.open_repo(tmp_path / "b")
    gitrepo.commit_snapshot(a, BRANCH, "dev/c/a", {"report.json": b"a"}, "from a")
    gitrepo.commit_snapshot(b, BRANCH, "dev/c/b1", {"report.json": b"b1"}, "from b 1")
    gitrepo.commit_snapshot(b, BRANCH, "dev/c/b2", {"report.json": b"b2"}, "from b 2")
    gitrepo.push(a, "origin", BRANCH)
    gitrepo.push(b, "origin", BRANCH)  # rejected first: both roots differ; b replays onto a
    assert branch_files(remote) == [
        "dev/c/a/report.json",
        "dev/c/b1/report.json",
        "dev/c/b2/report.json",
    ]
    assert sh(remote, "log", "--format=%s", BRANCH).split("\n")[:3] == [
        "from b 2",
        "from b 1",
        "from a",
    ]
    assert sh(tmp_path / "b", "rev-parse", BRANCH) == sh(remote, "rev-parse", BRANCH)
    assert gitrepo.read_tree(b, BRANCH, "dev/c/b2") == {"report.json": b"b2"}


def test_concurrent_pushes_from_two_clones_all_land(tmp_path: Path, remote: Path) -> None:
    origin = str(remote)
    start_workers(tmp_path, [(tmp_path / "a", "a", 3, origin), (tmp_path / "b", "b", 3, origin)])
    folders = {name.split("/")[0] for name in branch_files(remote)}
    assert folders == {f"{c}-{i}" for c in "ab" for i in range(3)}
    history = sh(remote, "rev-list", "--parents", BRANCH).splitlines()
    assert [len(line.split()) for line in history] == [2] * 5 + [1]


def test_push_to_a_missing_remote_is_a_one_line_error(tmp_path: Path, repo: git.Repo) -> None:
    gitrepo.commit_snapshot(repo, BRANCH, "dev/c/1", {"report.json": b"1"}, "one")
    with pytest.raises(SnapshotError) as e:
        gitrepo.push(repo, str(tmp_path / "nowhere.git"), BRANCH)
    assert str(e.value).startswith(f"git push {tmp_path / 'nowhere.git'} {BRANCH}: ")
    assert "\n" not in str(e.value)
