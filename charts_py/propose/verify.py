"""Offer only edits that work: apply them to the texts of the files they edit (the
environment file, a team's file), load the environment as synth would, render the cluster
again in memory, and compare with live using drift's own normalisation.

An edit is offered when the re-rendered object equals live at its path and the edit changes
no object the drift run left alone (that would trade one drift for another: a `policy.*`
override read by every service, say). Changes it makes elsewhere in the adopted objects are
reported beside it, for the reviewer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from charts_py import jsonpointer
from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.drift import compare, normalize
from charts_py.errors import MeshopsError
from charts_py.objectref import Key, ObjectRef
from charts_py.propose import edit
from charts_py.propose.plan import Candidate, Refusal

Render = Callable[[Environment], dict[Key, dict[str, Any]]]
"""One cluster's objects as synth renders them from an environment."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """What is edited and how it is judged."""

    texts: Mapping[str, str]
    """Every file of the environment at the report's commit, by path: the environment
    file (`display`) and its teams' files; an edit goes to the file its candidate names."""
    env: str
    display: str
    render: Render
    seeds: Mapping[str, edit.Seed]
    """Per file, what a mapping an edit creates there starts with."""

    def load(self, texts: Mapping[str, str]) -> Environment:
        """The environment these files' texts describe, as synth loads it."""
        teams = {path: text for path, text in texts.items() if path != self.display}
        return environment.load_text(texts[self.display], self.env, self.display, teams)


@dataclass
class Verified:
    """The edits offered (their patched files and environment) and those refused."""

    offered: list[Candidate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    """The files the offered edits change, patched, by path."""
    environment: Environment | None = None
    also: list[tuple[ObjectRef, str]] = field(default_factory=list)
    """Other paths the offered edits change in the objects they adopt."""


@dataclass
class _Attempt:
    blocked: str | None = None
    """Why the edits cannot go together (invalid file, other objects change)."""
    mismatched: dict[int, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    env: Environment | None = None
    also: list[tuple[ObjectRef, str]] = field(default_factory=list)


def verify(candidates: Sequence[Candidate], target: Target) -> Verified:
    """Try every edit together; when that fails, each object's edits alone, and keep the
    edits that re-render to the live value."""
    out = Verified()
    if not candidates:
        return out
    before = target.render(target.load(target.texts))
    pending = list(candidates)
    attempt = _attempt(pending, target, before)
    if attempt.blocked:
        pending = _alone(pending, target, before, out)
        attempt = _attempt(pending, target, before) if pending else _Attempt()
    while attempt.mismatched:
        out.refused += [
            Refusal(pending[i].ref, pending[i].diff.path, why)
            for i, why in sorted(attempt.mismatched.items())
        ]
        pending = [c for i, c in enumerate(pending) if i not in attempt.mismatched]
        attempt = _attempt(pending, target, before) if pending else _Attempt()
    if attempt.blocked:  # edits that passed alone but not together
        out.refused += [Refusal(c.ref, c.diff.path, attempt.blocked) for c in pending]
    elif pending:
        out.offered, out.texts, out.environment = pending, attempt.texts, attempt.env
        out.also = attempt.also
    return out


def _alone(
    pending: list[Candidate], target: Target, before: dict[Key, dict[str, Any]], out: Verified
) -> list[Candidate]:
    """The edits that pass when each object's are tried alone; the others refused in `out`."""
    kept = []
    for group in _by_object(pending):
        alone = _attempt(group, target, before)
        if alone.blocked:
            out.refused += [Refusal(c.ref, c.diff.path, alone.blocked) for c in group]
        else:
            kept += group
    return kept


def _by_object(candidates: list[Candidate]) -> list[list[Candidate]]:
    groups: dict[Key, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.ref.key, []).append(c)
    return list(groups.values())


def _attempt(
    candidates: list[Candidate], target: Target, before: dict[Key, dict[str, Any]]
) -> _Attempt:
    try:
        texts = _edited(candidates, target)
        env = target.load({**target.texts, **texts})
        after = target.render(env)
    except (ValueError, MeshopsError) as exc:
        return _Attempt(blocked=f"synth refuses the edited file: {exc}")
    adopted = {c.ref.key for c in candidates}
    for key in sorted(set(before) | set(after)):
        if key not in adopted and _changed(before.get(key), after.get(key)):
            shown = ObjectRef.of(after.get(key) or before[key])
            return _Attempt(blocked=f"the edit would also change {shown}, which is in sync")
    result = _Attempt(texts=texts, env=env)
    for i, c in enumerate(candidates):
        obj = after.get(c.ref.key)
        if obj is None or not _equal_at(obj, c.diff.path, c.diff.live):
            result.mismatched[i] = f"re-rendered, {c.field_name} does not give the live value"
    result.also = _also(candidates, before, after)
    return result


def _edited(candidates: list[Candidate], target: Target) -> dict[str, str]:
    """Each file the candidates edit, with their edits made (ValueError: one cannot be)."""
    files = sorted({c.file for c in candidates})
    return {
        file: edit.set_fields(
            target.texts[file],
            [(c.field, c.value) for c in candidates if c.file == file],
            target.seeds[file],
        )
        for file in files
    }


def _changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    if before is None or after is None:
        return before is not after
    return bool(_canonical(before) != _canonical(after))


def _canonical(obj: dict[str, Any]) -> Any:
    return normalize.canonical(normalize.strip(obj))


def _equal_at(obj: dict[str, Any], pointer: str, live: Any) -> bool:
    """Whether `obj` holds `live` at `pointer`, as drift compares (quantities by amount, ...)."""
    replaced = _with(obj, pointer, live)
    return replaced is not None and _canonical(replaced) == _canonical(obj)


def _with(obj: dict[str, Any], pointer: str, value: Any) -> dict[str, Any] | None:
    """A copy of `obj` with `value` at `pointer`; None when `obj` has no such place."""
    out = copy.deepcopy(obj)
    node: Any = out
    tokens = jsonpointer.tokens(pointer)
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(node, dict) and token in node:
            node[token] = value if last else node[token]
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node[int(token)] = value if last else node[int(token)]
            node = node[int(token)]
        else:
            return None
    return out


def _also(
    candidates: list[Candidate], before: dict[Key, dict[str, Any]], after: dict[Key, dict[str, Any]]
) -> list[tuple[ObjectRef, str]]:
    """Paths the edits change in adopted objects beyond the adopted ones."""
    out = []
    for key in sorted({c.ref.key for c in candidates}):
        adopted = {c.diff.path for c in candidates if c.ref.key == key}
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            continue
        for diff in compare.predicted(_canonical(new), _canonical(old)):
            if not any(_related(diff.path, p) for p in adopted):
                out.append((ObjectRef.of(new), diff.path))
    return out


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")
