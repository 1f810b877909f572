"""Judge each object: compare, attribute to a manager, rate, apply ignore rules.

Every object is first judged locally (no request); only those where the local comparison
finds something are judged again with a server-side apply dry-run, a bounded number in
parallel.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
from collections.abc import Sequence
from typing import Any, Protocol

from charts_py import contract
from charts_py.drift import compare, defaults, fetch, fields, mask, model, normalize
from charts_py.drift.model import Change, Confirmation, Difference, Result, Status
from charts_py.drift.policy import Policy
from charts_py.errors import Forbidden, MeshopsError, UnknownKind
from charts_py.objectref import ObjectRef

OURS = contract.FIELD_MANAGER


class DryRunner(Protocol):
    """What judging needs of a server: a server-side apply dry-run (`kubeapi.Cluster`; the
    unit tier answers from recorded objects)."""

    def apply(
        self, obj: dict[str, Any], *, field_manager: str, dry_run: bool = ..., force: bool = ...
    ) -> dict[str, Any]: ...


def judge_all(
    desired: Sequence[dict[str, Any]],
    live: fetch.Live,
    policy: Policy,
    *,
    env: str,
    cluster_name: str,
    server: DryRunner | None,
    workers: int = fetch.MAX_IN_FLIGHT,
) -> list[Result]:
    """A Result for every desired object and every extra object carrying our labels."""
    wanted = {ObjectRef.of(o).key: o for o in desired}
    # First without the server: most objects are settled locally, and threads only add
    # lock contention to pure-Python work. Then the rest, with dry-runs, in parallel.
    objects = list(wanted.values())
    results = [judge(o, live, policy, None) for o in objects]
    if server is not None:
        results = [_asked_nothing(r) for r in results]
        again = [i for i, r in enumerate(results) if r.status == Status.MODIFIED]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            confirmed = pool.map(lambda i: judge(objects[i], live, policy, server), again)
            for i, result in zip(again, confirmed, strict=True):
                results[i] = result
    for key, obj in sorted(live.objects.items()):
        if key not in wanted and contract.is_ours(obj, env, cluster_name):
            results.append(_absent_or_extra(ObjectRef.of(obj), Status.EXTRA, policy))
    return results


def _asked_nothing(result: Result) -> Result:
    """Judged locally with a server at hand: there was nothing a dry-run had to confirm."""
    if result.confirmed_by == model.NO_SERVER:
        return dataclasses.replace(result, confirmed_by=model.NOT_NEEDED)
    return result


def judge(
    obj: dict[str, Any], live: fetch.Live, policy: Policy, server: DryRunner | None
) -> Result:
    """The verdict on one desired object."""
    ref = ObjectRef.of(obj)
    error = live.errors.get(ref.group_kind)
    if ref.group_kind in live.unserved:
        error = f"the cluster does not serve {ref.api_version} {ref.kind}"
    if error:
        return Result(ref, Status.UNKNOWN, error=error)
    current = live.objects.get(ref.key)
    if current is None:
        return _absent_or_extra(ref, Status.MISSING, policy)
    try:
        raw, confirmation = differences(obj, current, policy, server)
    except MeshopsError as exc:  # the dry-run failed for another reason than RBAC
        return Result(ref, Status.UNKNOWN, error=str(exc))
    return dataclasses.replace(_verdict(ref, raw, policy), confirmed_by=confirmation)


def differences(
    applied: dict[str, Any], live: dict[str, Any], policy: Policy, server: DryRunner | None
) -> tuple[list[Difference], Confirmation]:
    """Apply-semantics differences (local, confirmed by dry-run) plus ownership drift, and
    how they were confirmed.

    Values are compared masked (`desired`); field ownership is judged on the object as a
    sync applies it (`applied`: a Secret's `stringData` is owned as `stringData`).
    """
    desired = mask.secret(applied)
    builtin = ObjectRef.of(desired).group in fields.BUILTIN_GROUPS
    live_c = normalize.canonical(normalize.strip(live))
    desired_c = normalize.canonical(normalize.strip(desired))
    owners = fields.owners(live)
    # git's object with the server's defaults filled in: what an old manager may own and
    # still be in sync (an adopted object). Only needed where a foreign manager owns fields.
    defaulted = functools.cache(lambda: defaults.fill(applied))
    foreign = any(o.manager != OURS and o.manager not in policy.controllers for o in owners)
    diffs = compare.local(desired_c, live_c, builtin)
    if not diffs and foreign:
        defaulted_c = normalize.canonical(normalize.strip(mask.secret(defaulted())))
        diffs = compare.taken(defaulted_c, live_c, owners, OURS, policy.controllers)
    diffs, confirmation = _confirm(diffs, applied, live_c, server)
    out = [_attribute(d, owners, live) for d in diffs]
    seen = {d.path for d in out}
    found = compare.ownership(live, owners, applied, defaulted, OURS, policy.controllers)
    for diff, owner in found:
        if diff.path not in seen:
            out.append(_with_owner(diff, owner))
    if owners and not any(o.manager == OURS for o in owners):
        out.append(_not_ours(owners))
    plain = [dataclasses.replace(d, desired=_plain(d.desired), live=_plain(d.live)) for d in out]
    return plain, confirmation


def _confirm(
    diffs: list[Difference],
    applied: dict[str, Any],
    live_c: dict[str, Any],
    server: DryRunner | None,
) -> tuple[list[Difference], Confirmation]:
    """The dry-run's differences instead of the local ones, when it can be asked; else the
    local ones, with the reason they stand (never a silent fallback)."""
    if server is None:
        return diffs, model.NO_SERVER
    if not diffs:
        return diffs, model.NOT_NEEDED
    if applied.get("kind") == "Secret":  # a dry-run would answer with the values unmasked
        return diffs, model.SECRET
    try:
        predicted = server.apply(applied, field_manager=OURS, dry_run=True)
    except Forbidden:
        return diffs, model.FORBIDDEN  # read-only RBAC: the nightly job's normal case
    except UnknownKind:
        return diffs, model.NOT_SERVED  # git's apiVersion is not served any more
    return compare.predicted(normalize.canonical(normalize.strip(predicted)), live_c), model.DRY_RUN


def _attribute(diff: Difference, owners: list[fields.Owner], live: dict[str, Any]) -> Difference:
    """The manager owning the changed path; for a removed field, the last hand edit."""
    best: fields.Owner | None = None
    for owner in owners:
        owns = any(_related(diff.path, fields.to_pointer(p, live)) for p in owner.paths)
        if owns and (best is None or (best.manager == OURS and owner.manager != OURS)):
            best = owner
    if best is None:
        foreign = [o for o in owners if o.manager != OURS and o.operation == "Update"]
        best = max(foreign, key=lambda o: o.time or "", default=None)
    return _with_owner(diff, best) if best else diff


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _with_owner(diff: Difference, owner: fields.Owner) -> Difference:
    return dataclasses.replace(
        diff, manager=owner.manager, operation=owner.operation, time=owner.time
    )


def _not_ours(owners: list[fields.Owner]) -> Difference:
    """Live but never applied by the syncer: recreated or adopted by hand."""
    first = min(owners, key=lambda o: o.time or "")
    return Difference(
        "/metadata/managedFields",
        Change.CHANGED,
        OURS,
        sorted({o.manager for o in owners}),
        first.manager,
        first.operation,
        first.time,
    )


def _plain(value: Any) -> Any:
    """JSON-ready values: canonical quantities (Decimal) back to plain numbers as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return format(value, "f") if value == value.to_integral() else str(value)
    return value


def _verdict(ref: ObjectRef, raw: list[Difference], policy: Policy) -> Result:
    kept, ignored = [], 0
    for diff in raw:
        if any(rule.silences(ref, diff) for rule in policy.ignore):
            ignored += 1
        else:
            kept.append(dataclasses.replace(diff, severity=policy.change_severity(ref.kind, diff)))
    if not kept:
        return Result(ref, Status.IN_SYNC, ignored=ignored)
    worst = min((d.severity for d in kept), key=lambda s: s.rank)
    return Result(
        ref,
        Status.MODIFIED,
        tuple(sorted(kept, key=lambda d: d.path)),
        ignored=ignored,
        severity=worst,
    )


def _absent_or_extra(ref: ObjectRef, status: Status, policy: Policy) -> Result:
    if policy.whole_object_ignored(ref):
        return Result(ref, Status.IN_SYNC, ignored=1)
    return Result(ref, status, severity=policy.object_severity(ref.kind))
