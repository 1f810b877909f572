"""Write an adoption: the patched environment file and the re-synthesised dist/, either into
the working tree (nothing half-written: the file is replaced by rename and put back if dist/
cannot be swapped in) or as one commit on a new branch on top of HEAD, with git plumbing only
(the working tree, the index and the checked-out branch are never touched)."""

from __future__ import annotations

import os
import tempfile
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from charts_py import gitrepo
from charts_py.config import checks, environment
from charts_py.errors import ConfigError, MeshopsError
from charts_py.propose.proposal import ENVIRONMENTS, Inputs, Proposal
from charts_py.render import synth


@dataclass(frozen=True)
class Written:
    """Where an adoption went: the files changed, and the branch commit (None: work tree)."""

    files: list[str]
    branch: str | None = None
    commit: str | None = None


def check_branch(inputs: Inputs, branch: str) -> None:
    """Refuse an existing branch before anything is planned or rendered."""
    if gitrepo.branch_exists(inputs.repo, branch):
        raise ConfigError(str(inputs.root), "--branch", f"branch '{branch}' already exists")


def to_worktree(proposal: Proposal, inputs: Inputs, dist: str) -> Written:
    """Replace the edited files (the environment file, a team's) and dist/ (the env's
    folder and the bootstrap)."""
    uncommitted = "differs from HEAD (uncommitted changes): commit or stash them, or use --branch"
    originals: dict[str, bytes] = {}
    for name in sorted(proposal.after):
        path = inputs.root / name
        original = path.read_bytes() if path.is_file() else None
        if original is None or original.decode("utf-8") != proposal.before[name]:
            raise ConfigError(name, "", uncommitted)
        originals[name] = original
    with _staged(proposal, inputs, inputs.root / dist) as staged:
        staged.verdict()  # a validation error stops here, before anything is written
        try:
            for name in originals:
                _replace(inputs.root / name, proposal.after[name].encode("utf-8"))
            changes = synth.write(staged, inputs.root / dist)
        except BaseException:
            for name, original in originals.items():
                _replace(inputs.root / name, original)
            raise
    files = [*proposal.after] + [f"{dist}/{p}" for p in changes.changed + changes.added]
    return Written(sorted(files))


def to_branch(
    proposal: Proposal, inputs: Inputs, dist: str, branch: str, push: str | None
) -> Written:
    """One commit on a new branch `branch` on top of HEAD: the environment file and every
    dist/ file the re-synthesis changes (removed ones deleted); pushed to `push` if given."""
    with _staged(proposal, inputs, inputs.root / dist) as staged:
        staged.verdict()
    before = gitrepo.read_tree(inputs.repo, inputs.commit, dist)
    kept = {p: b for p, b in before.items() if p.split("/", 1)[0] in (staged.tops or set(before))}
    changes: dict[str, bytes | None] = {
        f"{dist}/{p}": data for p, data in staged.files.items() if kept.get(p) != data
    }
    changes |= {f"{dist}/{p}": None for p in kept if p not in staged.files}
    changes |= {name: text.encode("utf-8") for name, text in proposal.after.items()}
    sha = gitrepo.create_branch(
        inputs.repo, branch, inputs.commit, changes, message(proposal, inputs)
    )
    if push:
        gitrepo.push(inputs.repo, push, branch)
    return Written(sorted(changes), branch, sha)


def message(proposal: Proposal, inputs: Inputs) -> str:
    """The commit message: what was adopted, from which drift run."""
    lines = [f"{proposal.env}/{proposal.cluster}: adopt {len(proposal.offered)} live value(s)", ""]
    lines += [f"Adopted in {', '.join(sorted(proposal.after))} (meshops propose --adopt):"]
    for c in proposal.offered:
        who = f", changed by {c.diff.manager}" if c.diff.manager else ""
        lines.append(f"- {c.field_name}: {c.current} -> {c.value} ({c.ref} {c.diff.path}{who})")
    if proposal.refused:
        lines += ["", "Not adopted (revert them, or edit by hand):"]
        lines += [f"- {r.ref} {r.path or ''}: {r.reason}" for r in proposal.refused]
    git = inputs.report.git
    finished = inputs.report.finished_at or "unknown"
    lines += ["", f"Drift report: {git.path} at commit {git.commit} (finished {finished})"]
    return "\n".join(lines) + "\n"


def _staged(
    proposal: Proposal, inputs: Inputs, dist_dir: Path
) -> AbstractContextManager[synth.Staged]:
    """Every environment of HEAD, the patched one (its files edited) replaced, rendered as
    synth would."""
    if proposal.environment is None:
        raise MeshopsError("nothing to write: no edit was offered")
    texts = {name: text for name, text in inputs.texts.items() if name != proposal.env}
    envs = {
        name: environment.load_text(
            text, name, f"{ENVIRONMENTS}/{name}.yaml", inputs.team_texts(name)
        )
        for name, text in texts.items()
    }
    envs[proposal.env] = proposal.environment
    checks.check_shared(list(envs.values()))
    return synth.staging(
        dict(sorted(envs.items())), inputs.root / ENVIRONMENTS, dist_dir, [proposal.env]
    )


def _replace(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary sibling renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
