"""A Proposal as people and scripts read it: a text plan (rich) and JSON (`--format json`).

Values shown are the drift report's, which masks Secrets on arrival; Secrets are never
adopted and their revert commands carry no value, so nothing here can print one.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from rich.console import Console

from charts_py import provenance
from charts_py.objectref import ObjectRef
from charts_py.propose.plan import Candidate
from charts_py.propose.proposal import Mode, Proposal

SCHEMA_VERSION = 1


def patch(proposal: Proposal) -> str:
    """The edits of the environment's files as one unified diff, a file after the other
    (empty when nothing is offered)."""
    return "".join(
        "".join(
            difflib.unified_diff(
                proposal.before[name].splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )
        for name, after in sorted(proposal.after.items())
    )


def to_json(proposal: Proposal, written: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON form; `written` says where the adoption went (work tree or branch)."""
    out: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "env": proposal.env,
        "cluster": proposal.cluster,
        "mode": str(proposal.mode),
        "commit": proposal.commit,
    }
    if proposal.mode == Mode.REVERT:
        out["reverts"] = [
            {**_object(r.ref, r.path), "bySync": r.by_sync, "how": r.how, "command": r.command}
            for r in proposal.reverts
        ]
        return out
    out["adopted"] = [_adopted(c) for c in proposal.offered]
    out["cannotAdopt"] = [{**_object(r.ref, r.path), "reason": r.reason} for r in proposal.refused]
    out["alsoChanges"] = [_object(ref, path) for ref, path in proposal.also]
    out["patch"] = patch(proposal)
    out["written"] = written
    return out


def json_text(proposal: Proposal, written: dict[str, Any] | None = None) -> str:
    return json.dumps(to_json(proposal, written), indent=2) + "\n"


def _object(ref: ObjectRef, path: str | None) -> dict[str, Any]:
    return {**ref.to_json(), "path": path}


def _adopted(c: Candidate) -> dict[str, Any]:
    return {
        **_object(c.ref, c.diff.path),
        "file": c.file,
        "field": c.field_name,
        "from": c.current,
        "value": c.value,
        "desired": c.diff.desired,
        "live": c.diff.live,
        "manager": c.diff.manager,
        "source": provenance.origin_to_json(c.origin),
    }


def text(proposal: Proposal, console: Console, written: str | None = None) -> None:
    """The plan, for a terminal or a log."""
    head = f"{proposal.env}/{proposal.cluster} at {proposal.commit[:12]}"
    if proposal.mode == Mode.REVERT:
        _reverts(proposal, console, head)
        return
    console.print(f"propose --adopt {head}", markup=False)
    if not proposal.offered and not proposal.refused:
        console.print("nothing to adopt: the drift run found no difference", markup=False)
    if proposal.offered:
        files = ", ".join(sorted(proposal.after))
        console.print(f"Adopt (verified: {files} re-rendered gives the live value):")
        for c in proposal.offered:
            console.print(f"  {_field(c)}: {_v(c.current)} -> {_v(c.value)}", markup=False)
            who = f" (changed by {c.diff.manager})" if c.diff.manager else ""
            console.print(f"      {c.ref} {c.diff.path}{who}", markup=False)
    if proposal.also:
        console.print("Also changes, in the adopted objects:")
        for ref, path in proposal.also:
            console.print(f"  {ref} {path}", markup=False)
    if proposal.refused:
        console.print("Cannot adopt automatically:")
        for r in proposal.refused:
            console.print(f"  {r.ref} {r.path or ''}".rstrip() + f": {r.reason}", markup=False)
    if proposal.after:
        console.print(patch(proposal), markup=False, highlight=False, end="")
    if written:
        console.print(written, markup=False)


def _reverts(proposal: Proposal, console: Console, head: str) -> None:
    console.print(f"propose --revert {head}", markup=False)
    if not proposal.reverts:
        console.print("nothing to revert: the drift run found no difference", markup=False)
    for r in proposal.reverts:
        console.print(f"  {r.ref} {r.path or ''}".rstrip(), markup=False)
        console.print(
            f"    {'sync restores it' if r.by_sync else 'SYNC KEEPS IT'}: {r.how}", markup=False
        )
        if r.command:
            console.print(f"    $ {r.command}", markup=False)


def _field(c: Candidate) -> str:
    if isinstance(c.origin, provenance.EnvField) and c.origin.line:
        return f"{c.origin.file}:{c.origin.line} {c.field_name}"
    if isinstance(c.origin, provenance.ProfileDefault):
        new = f"new override of profile {c.origin.profile} default {c.origin.key}"
        where = f"{c.origin.file} " if c.origin.file else ""
        return f"{where}{c.field_name} ({new})"
    return c.field_name


def _v(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
