"""Git, for drift: read the desired state at a ref, commit and push snapshots.

The only module that imports `git` (GitPython). Reads come from the object database at one
commit, never from the working tree, so a dirty checkout cannot change a verdict. Snapshots are
written with plumbing only: blobs with `hash-object -w`, a tree built in a private index
(GIT_INDEX_FILE in a temporary directory), `commit-tree`, then a compare-and-swap
`update-ref <ref> <new> <old>`. The working tree, the real index and the checked-out branch are
never touched, and concurrent writers (processes or clones) retry instead of losing commits.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import git

from charts_py import retry
from charts_py.errors import ConfigError, SnapshotError

AUTHOR_NAME = "meshops"
AUTHOR_EMAIL = "meshops@localhost"
_FETCHED = "refs/meshops/fetched/"  # private refs: a remote's tip, fetched to replay onto

Repo = git.Repo
"""The repository type, for annotations in modules that must not import `git` themselves."""


def open_repo(path: Path | None = None) -> git.Repo:
    """The repository containing `path` (default: the current directory), as `--repo` says."""
    where = path if path is not None else Path.cwd()
    try:
        return git.Repo(where, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as e:
        raise ConfigError(str(where), "--repo", "not a git repository") from e


def resolve(repo: git.Repo, ref: str = "HEAD") -> str:
    """The full commit sha of `ref`, so one run reads one commit even if the branch moves."""
    code, out, err = _run(repo, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    if code == 0:
        return out.strip()
    raise ConfigError(_where(repo), "--ref", _unresolved(repo, ref, err))


def peel(repo: git.Repo, ref: str) -> str:
    """`resolve`, asked of the `cat-file --batch` that GitPython keeps running (no process
    per ref); a ref it does not resolve goes to `resolve` for the reason. For a run that
    moves no ref while it reads (review): the running process may not see a ref moved."""
    try:
        sha, _, _, _ = repo.git.get_object_data(f"{ref}^{{commit}}")
    except ValueError:  # "<ref> missing", "ambiguous", a line feed in it
        return resolve(repo, ref)
    return sha.decode() if isinstance(sha, bytes) else str(sha)  # bytes, though annotated str


def entries(repo: git.Repo, commit: str, folder: str) -> list[str]:
    """The paths directly inside `folder` at `commit` (files and folders, sorted; [] when it
    is absent or no folder), read from the tree object through the running `cat-file
    --batch`: no `ls-tree` process per listing."""
    try:
        sha, kind, _, data = repo.git.get_object_data(f"{commit}:{folder.strip('/')}")
    except ValueError:
        return []
    if kind not in (b"tree", "tree"):
        return []
    oid_size = len(sha) // 2  # 20 bytes (SHA-1) or 32 (SHA-256)
    names, at = [], 0
    while at < len(data):  # "<mode> <name>\0<oid>" per entry, no separator
        end = data.index(b"\0", at)
        names.append(data[at:end].split(b" ", 1)[1].decode())
        at = end + 1 + oid_size
    prefix = folder.strip("/") + "/" if folder.strip("/") else ""
    return sorted(prefix + name for name in names)


def read_tree(repo: git.Repo, commit: str, path: str) -> dict[str, bytes]:
    """Every blob under `path` at `commit` (relative paths, sorted), from the object database."""
    sha = resolve(repo, commit)
    folder = path.strip("/")
    tree = repo.commit(sha).tree
    try:
        node = tree / folder if folder not in ("", ".") else tree
    except KeyError:
        raise ConfigError(_where(repo), path, f"not found at commit {sha[:12]}") from None
    if not isinstance(node, git.Tree):
        raise ConfigError(_where(repo), path, f"not a directory at commit {sha[:12]}")
    return _blobs(repo, sha, str(node.path))


def read_file(repo: git.Repo, commit: str, path: str) -> bytes | None:
    """The blob at `path` in `commit` (a sha from `resolve`), or None when there is none."""
    try:
        blob = repo.commit(commit).tree / path
    except KeyError:
        return None
    return _data(blob) if isinstance(blob, git.Blob) else None


def folders(repo: git.Repo, commit: str, path: str) -> list[str]:
    """Names of the folders directly under `path` at `commit`, sorted ([] when absent): lets a
    restore pick one backup without reading every snapshot's blobs."""
    tree = repo.commit(resolve(repo, commit)).tree
    try:
        node = tree / path.strip("/")
    except KeyError:
        return []
    return sorted(t.name for t in node.trees) if isinstance(node, git.Tree) else []


def merge_base(repo: git.Repo, one: str, other: str) -> str:
    """The best common ancestor of two commits (`git merge-base`), or a ConfigError."""
    code, out, _ = _run(repo, "merge-base", one, other)
    if code == 0 and out.strip():
        return out.strip()
    raise ConfigError(_where(repo), "--base", f"no merge base of {one} and {other}")


def default_branch(repo: git.Repo) -> str | None:
    """The branch a pull request targets: `origin`'s HEAD when the clone knows it, else a
    local `main` or `master`; None when there is none of them."""
    code, out, _ = _run(repo, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if code == 0 and out.strip():
        return out.strip()
    return next((b for b in ("main", "master") if branch_exists(repo, b)), None)


def root(repo: git.Repo) -> Path:
    """The working tree's top folder (a bare repository has none: ConfigError)."""
    if repo.working_tree_dir is None:
        raise ConfigError(_where(repo), "--head", "a bare repository has no working tree")
    return Path(repo.working_tree_dir)


def changed(repo: git.Repo, base: str, head: str | None, paths: Iterable[str]) -> list[str]:
    """Files under `paths` that differ between commit `base` and commit `head`, or the
    working tree when `head` is None (untracked files included, ignored ones not). Sorted.
    Git compares tree entries' blob ids, so the cost follows the change, not the tree."""
    spec = ["--", *paths]
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base]
    out = _out(repo, *args, *([head] if head else []), *spec)
    names = set(filter(None, out.split("\0")))
    if head is None:
        others = _out(repo, "ls-files", "--others", "--exclude-standard", "-z", *spec)
        names |= set(filter(None, others.split("\0")))
    return sorted(names)


def list_files(
    repo: git.Repo, commit: str, folders: Iterable[str], *, recursive: bool = True
) -> list[str]:
    """Paths (from the repository's top) under `folders` at `commit`, names only, from one
    `ls-tree`; not recursive: the files and folders directly in them. Absent folders add none."""
    depth = ["-r"] if recursive else []
    specs = [f.rstrip("/") + "/" for f in folders]
    out = _out(repo, "ls-tree", "-z", "--name-only", *depth, commit, "--", *specs)
    return sorted(filter(None, out.split("\0")))


def grep(
    repo: git.Repo,
    commit: str | None,
    needles: Iterable[str],
    paths: Iterable[str],
    *,
    absent: bool = False,
) -> dict[str, list[str]]:
    """The files under `paths` (pathspecs) at `commit` (None: the working tree, untracked
    files included) whose text contains one of `needles`, with the lines that do; with
    `absent`, the files that contain none of them (no lines). Git searches the blobs itself,
    so a caller parses only the files that can matter."""
    where = [commit] if commit else ["--untracked"]
    mode = ["-L"] if absent else ["-z", "--full-name"]
    patterns = [arg for needle in needles for arg in ("-e", needle)]
    # One thread: a commit's blobs are read under one lock, so more threads only contend
    # (2,000 small policies: 11 ms with one, 20 ms with the default on two cores).
    code, out, err = _run(
        repo, "grep", "--threads=1", "-I", "-F", *mode, *patterns, *where, "--", *paths
    )
    if code not in (0, 1):
        raise ConfigError(_where(repo), "", f"git grep failed: {_last_line(err)}")
    found: dict[str, list[str]] = {}
    prefix = f"{commit}:" if commit else ""
    for line in out.splitlines():
        if absent:
            found[line.removeprefix(prefix)] = []
            continue
        name, _, text = line.removeprefix(prefix).partition("\0")
        found.setdefault(name, []).append(text)
    return found


def read_files(repo: git.Repo, commit: str, paths: Iterable[str]) -> dict[str, bytes]:
    """The blobs at `paths` in `commit`; absent paths are left out. Asked one by one of the
    `cat-file --batch` that GitPython keeps running for the repository: a run that reads a
    few files at a time (review) starts no process per read."""
    out: dict[str, bytes] = {}
    for path in paths:
        try:
            _, kind, _, data = repo.git.get_object_data(f"{commit}:{path}")
        except ValueError:  # "<commit>:<path> missing"
            continue
        if kind in (b"blob", "blob"):  # bytes, though GitPython's annotation says str
            out[path] = data
    return out


def tip(repo: git.Repo, ref: str) -> str | None:
    """The commit `ref` names, or None when it names none (a branch not created yet)."""
    return _tip(repo, ref)


def listings(repo: git.Repo, commit: str, folders: Iterable[str]) -> dict[str, list[str]]:
    """The names directly inside each of `folders` at `commit`, sorted, from one `ls-tree`
    (`list_files`; a folder that is absent lists nothing; `[""]` lists the root): how the
    snapshot branch's history is found without reading one folder per call."""
    wanted = sorted({f.strip("/") for f in folders})
    out: dict[str, list[str]] = {f: [] for f in wanted}
    if not wanted:
        return out
    for path in list_files(repo, commit, wanted if wanted != [""] else [], recursive=False):
        folder, _, name = path.rpartition("/")
        if folder in out:
            out[folder].append(name)
    return out


def _blobs(repo: git.Repo, sha: str, folder: str) -> dict[str, bytes]:
    """Every file under `folder` at `sha`, sorted: their names from one `ls-tree`, their
    contents from one `cat-file --batch` (two processes, not one read per blob). The bytes
    are the blobs as committed, which `git archive` would not give where .gitattributes asks
    for export-subst or export-ignore; symlinks and submodules are no files."""
    spec = f"{sha}:{folder}" if folder else sha
    listing = repo.git.execute(["git", "ls-tree", "-r", "-z", spec], stdout_as_string=False)
    names: list[str] = []
    oids: list[bytes] = []
    for entry in filter(None, bytes(listing).split(b"\0")):
        meta, _, raw = entry.partition(b"\t")  # "<mode> <type> <oid>\t<name>"
        mode, kind, oid = meta.split(b" ")
        if kind == b"blob" and mode in (b"100644", b"100755"):
            names.append(raw.decode())
            oids.append(oid)
    if not oids:
        return {}
    return dict(sorted(_batch(repo, names, oids).items()))


def _batch(repo: git.Repo, names: list[str], objects: list[bytes]) -> dict[str, bytes]:
    """The blobs `objects` (ids or `<commit>:<path>`) by `names`, from one `cat-file
    --batch`; one that is missing (or not a blob) is left out. Run by `subprocess` itself:
    GitPython's reader takes twice as long over the megabytes of a side file or a cluster's
    manifests (a poll and a copy per pipe buffer)."""
    done = subprocess.run(
        ["git", f"--git-dir={repo.git_dir}", "cat-file", "--batch"],
        input=b"\n".join(objects) + b"\n",
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        reason = _last_line(done.stderr.decode(errors="replace"))
        raise ConfigError(_where(repo), "", f"git cat-file failed: {reason}")
    batch = done.stdout
    out: dict[str, bytes] = {}
    at = 0
    for name in names:  # "<oid> blob <size>\n<content>\n" or "<object> missing\n", in order
        header_end = batch.find(b"\n", at)
        header_end = len(batch) if header_end < 0 else header_end
        header = batch[at:header_end].split(b" ")
        if header[-1] == b"missing" or len(header) != 3:
            at = header_end + 1
            continue
        size = int(header[2])
        if header[1] == b"blob":
            out[name] = batch[header_end + 1 : header_end + 1 + size]
        at = header_end + 2 + size
    return out


def commit_snapshot(
    repo: git.Repo,
    branch: str,
    prefix: str,
    files: dict[str, bytes],
    message: str,
    *,
    attempts: int = 10,
) -> str:
    """Add `files` under `prefix/` on `branch` (created if absent); the new commit's sha.

    Never touches the working tree, the index or HEAD; retries from the new tip when another
    writer moved the branch between our read and our compare-and-swap.
    """
    ref = _branch_ref(repo, branch)
    folder = _clean(prefix, "prefix")
    if not files:
        raise SnapshotError(f"{branch}: nothing to commit under {folder}/")
    entries = {f"{folder}/{_clean(name, 'file name')}": data for name, data in files.items()}
    return _advance(
        repo, ref, lambda tip: _commit_on(repo, tip, entries, message, [folder]), attempts
    )


def create_branch(
    repo: git.Repo, branch: str, base: str, files: dict[str, bytes | None], message: str
) -> str:
    """A new branch holding one commit on top of `base` that writes `files` (None deletes
    the path); its sha. Refuses a branch that exists, atomically (a concurrent creator loses
    cleanly); like snapshots, never touches the working tree, the index or HEAD."""
    ref = _branch_ref(repo, branch)
    if branch_exists(repo, branch):
        raise SnapshotError(f"branch '{branch}' already exists")
    tree = _tree_with(repo, resolve(repo, base), files)
    commit = _out(repo, "commit-tree", tree, "-p", base, "-m", message, env=_identity(repo))
    if not _swap(repo, ref, commit, None):
        raise SnapshotError(f"branch '{branch}' already exists")
    return commit


def branch_exists(repo: git.Repo, branch: str) -> bool:
    """Whether `refs/heads/<branch>` names a commit."""
    return _tip(repo, f"refs/heads/{branch}") is not None


def push(repo: git.Repo, remote: str, branch: str, *, attempts: int = 5) -> None:
    """Push the snapshot branch; if someone pushed first, replay ours onto their tip and retry."""
    ref = _branch_ref(repo, branch)

    def once() -> None:
        code, out, err = _run(repo, "push", "--porcelain", remote, f"{ref}:{ref}")
        if code == 0:
            return
        if not _lost_race(out, err):
            raise SnapshotError(f"git push {remote} {branch}: {_push_failure(out, err)}")
        _rebase(repo, remote, ref)
        raise _Raced(ref)

    policy = retry.Policy(attempts=attempts, pauses=retry.growing(0.1, attempts), jitter=True)
    try:  # the pause lets the winner finish
        retry.call(once, policy, again=lambda exc: isinstance(exc, _Raced))
    except _Raced:
        raise SnapshotError(
            f"git push {remote} {branch}: still rejected after {attempts} attempts "
            "(others keep pushing); the snapshot is committed locally, push again later"
        ) from None


# --- reading ------------------------------------------------------------------------------


def _unresolved(repo: git.Repo, ref: str, stderr: str) -> str:
    """Why `ref` does not name a commit, in words: corrupt ref, not a commit, or unknown."""
    for line in stderr.splitlines():
        if "ignoring broken ref" in line:
            name = line.rsplit(" ", 1)[-1]
            if name == ref or name.endswith("/" + ref):
                return f"corrupt ref '{name}' (its file does not hold an object name)"
    code, sha, _ = _run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", ref)
    if code != 0:
        return f"unknown revision '{ref}'"
    code, kind, _ = _run(repo, "cat-file", "-t", sha.strip())
    if code == 0:
        return f"'{ref}' is a {kind.strip()}, not a commit"
    return f"'{ref}' points to {sha.strip()}, which is not in the repository (corrupt ref?)"


def _data(blob: git.Blob) -> bytes:
    return bytes(blob.data_stream.read())


def _where(repo: git.Repo) -> str:
    return str(repo.working_tree_dir or repo.git_dir)


# --- writing ------------------------------------------------------------------------------


def _advance(repo: git.Repo, ref: str, build: Callable[[str | None], str], attempts: int) -> str:
    """Compare-and-swap `ref` from its tip to `build(tip)`, re-reading the tip when it moved."""

    def once() -> str:
        old = _tip(repo, ref)
        new = build(old)
        if _swap(repo, ref, new, old):
            return new
        raise _Raced(ref)

    policy = retry.Policy(attempts=attempts, pauses=retry.growing(0.05, attempts), jitter=True)
    try:  # the pause lets the other writer finish
        return retry.call(once, policy, again=lambda exc: isinstance(exc, _Raced))
    except _Raced:
        raise SnapshotError(
            f"{ref}: moved on each of {attempts} attempts; snapshot not committed"
        ) from None


class _Raced(Exception):
    """Another writer moved the ref first (a push rejected, a compare-and-swap lost)."""


def _swap(repo: git.Repo, ref: str, new: str, old: str | None) -> bool:
    """`update-ref ref new old`: False when another writer won (ref moved or locked)."""
    # An empty old value means "must not exist yet", so two first snapshots cannot both win.
    code, _, err = _run(repo, "update-ref", "-m", "meshops snapshot", ref, new, old or "")
    if code == 0:
        return True
    if _tip(repo, ref) != old or ".lock" in err:
        return False
    raise SnapshotError(f"{ref}: git update-ref failed: {_last_line(err)}")


def _commit_on(
    repo: git.Repo, parent: str | None, entries: dict[str, bytes], message: str, guard: list[str]
) -> str:
    """A new commit: `parent`'s tree plus `entries`; refuses to overwrite paths in `guard`."""
    if parent and guard:
        taken = _out(repo, "ls-tree", "-z", "--name-only", parent, "--", *guard).split("\0")
        if any(taken):
            raise SnapshotError(
                f"{taken[0]}/ already exists on the snapshot branch; refusing to overwrite it"
            )
    tree = _tree_with(repo, parent, entries)
    parents = ["-p", parent] if parent else []
    return _out(repo, "commit-tree", tree, *parents, "-m", message, env=_identity(repo))


_REMOVED = b"0 " + b"0" * 40  # an --index-info line with mode 0 removes the path


def _tree_with(repo: git.Repo, parent: str | None, entries: Mapping[str, bytes | None]) -> str:
    """Write the tree of `parent` plus `entries` (None removes a path), built in a private,
    temporary index."""
    with tempfile.TemporaryDirectory(prefix="meshops-snapshot-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp, "index"))}
        if parent:
            _out(repo, "read-tree", parent, env=env)
        written = {p: data for p, data in entries.items() if data is not None}
        shas = dict(zip(written, _hash_blobs(repo, written.values(), Path(tmp)), strict=True))
        info = Path(tmp, "index-info")
        info.write_bytes(
            b"".join(
                (b"100644 " + shas[p].encode() if p in shas else _REMOVED) + b"\t%s\0" % p.encode()
                for p in entries
            )
        )
        with info.open("rb") as stream:
            _out(repo, "update-index", "--add", "-z", "--index-info", env=env, istream=stream)
        return _out(repo, "write-tree", env=env)


def _hash_blobs(repo: git.Repo, blobs: Iterable[bytes], tmp: Path) -> list[str]:
    """Store `blobs` in the object database with one `hash-object -w`; their shas in order."""
    paths = []
    for i, data in enumerate(blobs):
        paths.append(tmp / f"blob-{i}")
        paths[-1].write_bytes(data)
    listing = tmp / "blobs"
    listing.write_text("".join(f"{p}\n" for p in paths))
    with listing.open("rb") as stream:
        # --no-filters: store the exact bytes (no .gitattributes/autocrlf conversion).
        out = _out(repo, "hash-object", "-w", "--no-filters", "--stdin-paths", istream=stream)
    return out.split()


def _identity(repo: git.Repo) -> dict[str, str]:
    """Author/committer environment: the repo's configured user, else meshops@localhost."""
    env: dict[str, str] = {}
    for key, default in (("name", AUTHOR_NAME), ("email", AUTHOR_EMAIL)):
        if _run(repo, "config", "--get", f"user.{key}")[1].strip():
            continue
        for role in ("AUTHOR", "COMMITTER"):
            var = f"GIT_{role}_{key.upper()}"
            if var not in os.environ:
                env[var] = default
    return env


def _branch_ref(repo: git.Repo, branch: str) -> str:
    """`refs/heads/<branch>`, refusing bad names and the checked-out branch (HEAD stays put)."""
    ref = f"refs/heads/{branch}"
    if _run(repo, "check-ref-format", ref)[0] != 0:
        raise SnapshotError(f"'{branch}' is not a valid branch name")
    if _run(repo, "symbolic-ref", "--quiet", "HEAD")[1].strip() == ref:
        raise SnapshotError(
            f"branch '{branch}' is checked out in {_where(repo)}; snapshots go to a branch "
            "that is not checked out (default meshops/snapshots)"
        )
    return ref


def _clean(path: str, what: str) -> str:
    """`path` as a relative POSIX path inside the snapshot, or a SnapshotError saying why not."""
    parts = path.removesuffix("/").split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\n" in p for p in parts):
        raise SnapshotError(f"{what} {path!r} is not a plain relative path")
    return "/".join(parts)


# --- pushing ------------------------------------------------------------------------------


def _lost_race(porcelain: str, stderr: str) -> bool:
    """True when another push won: non-fast-forward, or the remote ref moved while we pushed."""
    rejected = [line for line in porcelain.splitlines() if line.startswith("!")]
    if any("[rejected]" in line for line in rejected):
        return True
    # The remote took the ref lock or compared the old value while another push updated it.
    return any("[remote rejected]" in line for line in rejected) and "cannot lock ref" in stderr


def _push_failure(porcelain: str, stderr: str) -> str:
    """The reason git gave for the refused ref (porcelain `!` line), else its last error line."""
    for line in porcelain.splitlines():
        if line.startswith("!"):
            return line.rsplit("\t", 1)[-1]
    return _last_line(stderr or porcelain)


def _rebase(repo: git.Repo, remote: str, ref: str) -> None:
    """Fetch the remote's tip and move our local-only snapshot commits on top of it (CAS)."""
    fetched = _FETCHED + ref.removeprefix("refs/heads/")
    _out(repo, "fetch", "--quiet", "--no-write-fetch-head", remote, f"+{ref}:{fetched}")
    base = _tip(repo, fetched)
    if base is None:
        raise SnapshotError(f"git fetch {remote} {ref}: no such branch on the remote")
    _advance(repo, ref, lambda local: _replay(repo, base, local, ref), attempts=10)


def _replay(repo: git.Repo, base: str, local: str | None, ref: str) -> str:
    """Re-create the commits of `local` that `base` lacks on top of `base` (files they added)."""
    if local is None:
        raise SnapshotError(f"{ref} vanished while pushing")
    head = base
    for sha in _out(repo, "rev-list", "--reverse", "--no-merges", local, "--not", base).split():
        entries = _added(repo, sha)
        guard = sorted({str(PurePosixPath(p).parent) for p in entries})
        message = _out(repo, "log", "-1", "--format=%B", sha)
        head = _commit_on(repo, head, entries, message, guard) if entries else head
    return head


def _added(repo: git.Repo, sha: str) -> dict[str, bytes]:
    """The files commit `sha` added or modified, with their bytes."""
    names = _out(repo, "diff-tree", "-r", "-z", "--root", "--no-commit-id", "--name-only",
                 "--diff-filter=AM", sha).split("\0")  # fmt: skip
    tree = repo.commit(sha).tree
    return {
        name: _data(blob) for name in names if name and isinstance(blob := tree / name, git.Blob)
    }


# --- running git --------------------------------------------------------------------------


def _tip(repo: git.Repo, ref: str) -> str | None:
    code, out, _ = _run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.strip() if code == 0 else None


def _run(
    repo: git.Repo, *args: str, env: dict[str, str] | None = None, istream: BinaryIO | None = None
) -> tuple[int, str, str]:
    """Run git in `repo`: exit code, stdout, stderr (English: GitPython sets LC_ALL=C)."""
    return repo.git.execute(
        ["git", *args], istream=istream, with_extended_output=True, with_exceptions=False, env=env
    )


def _out(
    repo: git.Repo, *args: str, env: dict[str, str] | None = None, istream: BinaryIO | None = None
) -> str:
    """Stdout of a git command that must succeed; otherwise a one-line SnapshotError."""
    code, out, err = _run(repo, *args, env=env, istream=istream)
    if code != 0:
        raise SnapshotError(f"git {args[0]} failed in {_where(repo)}: {_last_line(err or out)}")
    return out


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
