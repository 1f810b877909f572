"""Where git's value of each drift difference comes from: the provenance side file synth wrote
at the same commit (charts_py/provenance.py), read at the desired object's own coordinates.

A difference's pointer may be in live's list coordinates: ownership and the local comparison
number items of lists Kubernetes merges by key (env, containers, ports) by their index in
live. Before the lookup those steps are matched to git's item by the same keys, so a
hand-added env var at index 0 does not take the source of git's first env var.

A path git does not have (an added field or list item) takes the source of its nearest
ancestor that git has: the longest recorded prefix of that ancestor, usually the object's own
`{"generated": "<construct>"}`. It names no environment field, so `propose` lists it as
"cannot adopt automatically", which is the truth: no field of the file produced it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from charts_py import jsonpointer, provenance
from charts_py.drift import fields
from charts_py.drift.model import Difference, Result
from charts_py.errors import ConfigError
from charts_py.objectref import Key, ObjectRef


def load(
    side_file: bytes | None,
    env_text: str | None,
    commit: str,
    team_texts: Mapping[str, str] | None = None,
) -> tuple[Lookup, str | None]:
    """The lookup for one run, and a note for the report when there is no usable provenance
    (sources are then unknown; the verdicts do not depend on them). Lines are resolved in
    the file each source names: the environment file, or a team's (`team_texts`, by
    repository path), all at the same commit."""
    at = commit[:12]
    if side_file is None:
        why = f"no provenance side file at commit {at} (synthesised before provenance was recorded)"
        return _unknown(f"no provenance at {at}", why)
    try:
        recorded = provenance.Provenance.from_bytes(side_file, env_text, team_texts)
    except ConfigError:  # the environment file is unreadable: sources without lines
        recorded = provenance.Provenance.from_bytes(side_file)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return _unknown(f"unreadable provenance at {at}", f"provenance side file at {at}: {exc!r}")
    return Lookup(recorded), None


def _unknown(what: str, why: str) -> tuple[Lookup, str]:
    note = f"{why}: every difference's source is unknown"
    return Lookup(None, provenance.Generated(f"unknown: {what}")), note


@dataclasses.dataclass(frozen=True)
class Lookup:
    """Sources from one side file, or one fixed `missing` origin when there is none."""

    recorded: provenance.Provenance | None
    missing: provenance.Origin = provenance.UNKNOWN

    def source(self, ref: ObjectRef, pointer: str) -> provenance.Origin:
        return self.recorded.source_of(ref, pointer) if self.recorded else self.missing


def attach(
    results: Sequence[Result],
    desired: Sequence[dict[str, Any]],
    live: dict[Key, dict[str, Any]],
    lookup: Lookup,
) -> list[Result]:
    """Every result with a `source` on each of its differences."""
    wanted = {ObjectRef.of(o).key: o for o in desired}
    out = []
    for result in results:
        obj = wanted.get(result.ref.key)
        if not result.differences or obj is None:
            out.append(result)
            continue
        current = live.get(result.ref.key) or {}
        diffs = tuple(
            dataclasses.replace(d, source=lookup.source(result.ref, at_desired(d, obj, current)))
            for d in result.differences
        )
        out.append(dataclasses.replace(result, differences=diffs))
    return out


def at_desired(diff: Difference, desired: dict[str, Any], live: dict[str, Any]) -> str:
    """`diff.path` in git's coordinates, cut at the last step git's object has."""
    builtin = ObjectRef.of(desired).group in fields.BUILTIN_GROUPS
    want: Any = desired
    have: Any = live
    prefix: fields.Path = ()
    out: list[object] = []
    for token in jsonpointer.tokens(diff.path):
        if isinstance(want, dict) and token in want:
            want, have = want[token], have.get(token) if isinstance(have, dict) else None
            prefix = (*prefix, token)
            out.append(token)
        elif isinstance(want, list):
            keys = fields.list_keys(prefix) if builtin else None
            index = _item(want, have, token, keys, diff)
            if index is None:
                break
            want = want[index]
            have = have[int(token)] if _indexes(have, token) else None
            prefix = (*prefix, ("k", ""))  # a list item: its key's text does not matter here
            out.append(index)
        else:
            break
    return jsonpointer.pointer(*out)


def _item(
    want: list[Any], have: Any, token: str, keys: tuple[str, ...] | None, diff: Difference
) -> int | None:
    """Git's index of the item `token` names: by merge key for lists Kubernetes merges by
    key (the item live has at that index, or for `-` the removed item the difference
    carries), by position for every other list."""
    if keys is None:
        return int(token) if token.isdigit() and int(token) < len(want) else None
    item = have[int(token)] if _indexes(have, token) else diff.desired if token == "-" else None
    if not isinstance(item, dict):
        return None
    key = [fields.key_value(item, k) for k in keys]
    return next(
        (i for i, w in enumerate(want) if [fields.key_value(w, k) for k in keys] == key), None
    )


def _indexes(have: Any, token: str) -> bool:
    return isinstance(have, list) and token.isdigit() and int(token) < len(have)
