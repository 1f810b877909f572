"""What restores git, per difference, and whether an Argo CD sync does it.

Argo CD syncs our ApplicationSet with `ServerSideApply=true`, forcing conflicts (v3.6.1's
gitops-engine `resource_ops.go`: `o.ForceConflicts = serverSideApply`), as
`argocd-controller`. So a sync writes back every field git sets, whoever changed it, and
removes fields git dropped that `argocd-controller` still owns; it keeps a field another
manager added beside git's (argo-cd#16771; docs/argocd.md measures it) and an object it never
applied. For those the plan gives the command that does remove them: a JSON patch whose
`test` op makes it fail, rather than remove the wrong item, if the list moved since the drift
run. Secret values are never printed: their patches carry no `test` value.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from charts_py import contract
from charts_py.drift.model import Change, Difference, Result, Status
from charts_py.objectref import ObjectRef
from charts_py.propose.plan import RECREATED

SYNC_RESTORES = (
    "git sets this field: an Argo CD sync writes git's value back (server-side apply, "
    "forcing conflicts); with self-heal on it already will"
)


@dataclass(frozen=True, kw_only=True)
class Revert:
    """How one difference (or a whole object, `path` None) goes back to git."""

    ref: ObjectRef
    path: str | None
    by_sync: bool
    """Whether an Argo CD sync restores git here."""
    how: str
    command: str | None
    """What restores it now (the only way when `by_sync` is False)."""


def plan(results: list[Result], files: dict[str, str]) -> list[Revert]:
    """A Revert for every difference of every divergent object; `files` maps an object's
    dist file name (`ObjectRef.file_name`) to its path in the repository."""
    out = []
    for result in results:
        apply = _apply(files.get(result.ref.file_name()))
        if result.status == Status.MISSING:
            out.append(
                Revert(
                    ref=result.ref,
                    path=None,
                    by_sync=True,
                    how="an Argo CD sync creates it",
                    command=apply,
                )
            )
        elif result.status == Status.EXTRA:
            out.append(_extra(result.ref))
        else:
            out += [_difference(result.ref, d, apply) for d in result.differences]
    return out


def _extra(ref: ObjectRef) -> Revert:
    how = (
        "an Argo CD sync keeps it: Argo CD prunes only objects it applied, and this one it "
        "never did (it carries meshops' labels, but no Application tracks it)"
    )
    where = f" -n {shlex.quote(ref.namespace)}" if ref.namespace else ""
    return Revert(
        ref=ref,
        path=None,
        by_sync=False,
        how=how,
        command=f"kubectl delete {_resource(ref)} {_q(ref.name)}{where}",
    )


def _difference(ref: ObjectRef, diff: Difference, apply: str | None) -> Revert:
    if diff.path == RECREATED:
        how = (
            "re-created by hand, never applied by the syncer: a sync takes back the fields git "
            "sets, but keeps any field the hand-made object adds"
        )
        return Revert(ref=ref, path=diff.path, by_sync=True, how=how, command=apply)
    if diff.change != Change.ADDED:
        return Revert(ref=ref, path=diff.path, by_sync=True, how=SYNC_RESTORES, command=apply)
    if diff.manager == contract.FIELD_MANAGER:
        how = "removed from git, still owned by the syncer: an Argo CD sync removes it"
        return Revert(ref=ref, path=diff.path, by_sync=True, how=how, command=apply)
    owner = diff.manager or "another manager"
    how = (
        f"an Argo CD sync will NOT remove it: {owner} owns this field and git does not "
        "mention it, so server-side apply keeps it"
    )
    return Revert(ref=ref, path=diff.path, by_sync=False, how=how, command=_remove(ref, diff))


def _remove(ref: ObjectRef, diff: Difference) -> str:
    """`kubectl patch` removing the live field at its live pointer, guarded by a test op."""
    ops: list[dict[str, Any]] = []
    if ref.kind != "Secret":
        ops.append({"op": "test", "path": diff.path, "value": diff.live})
    ops.append({"op": "remove", "path": diff.path})
    patch = json.dumps(ops, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    where = f" -n {shlex.quote(ref.namespace)}" if ref.namespace else ""
    return (
        f"kubectl patch {_resource(ref)} {_q(ref.name)}{where} --type=json -p {shlex.quote(patch)}"
    )


def _apply(path: str | None) -> str | None:
    """Git's object applied now as the syncer would, forcing conflicts."""
    if path is None:
        return None
    return (
        f"kubectl apply --server-side --force-conflicts "
        f"--field-manager={contract.FIELD_MANAGER} -f {shlex.quote(path)}"
    )


def _resource(ref: ObjectRef) -> str:
    """`deployment.apps`, `peerauthentication.security.istio.io`, `service`: what kubectl
    resolves unambiguously whatever else the cluster serves."""
    kind = ref.kind.lower()
    return f"{kind}.{ref.group}" if ref.group else kind


def _q(text: str) -> str:
    return shlex.quote(text)
