"""Judge each object: compare, attribute to a manager, rate, apply ignore rules.

Every object is first judged locally (no request); only those where the local comparison
finds something are judged again with a server-side apply dry-run, a bounded number in
parallel.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from charts_py import contract
from charts_py.drift import compare, defaults, fetch, fields, mask, model, normalize
from charts_py.drift.model import Change, Confirmation, Difference, Result, Status
from charts_py.drift.policy import Policy
from charts_py.errors import Forbidden, MeshopsError, UnknownKind
from charts_py.objectref import Key, ObjectRef, group_of

OURS = contract.FIELD_MANAGER
T = TypeVar("T")


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
    early: Early | None = None,
) -> list[Result]:
    """A Result for every desired object and every extra object carrying our labels
    (`early`: local verdicts reached while live state was still being read)."""
    wanted = {ObjectRef.of(o).key: o for o in desired}
    # First without the server: most objects are settled locally, and threads only add
    # lock contention to pure-Python work. Then the rest, with dry-runs, in parallel.
    objects = list(wanted.values())
    judged = early.results if early is not None else {}
    unasked = model.NO_SERVER if server is None else model.NOT_NEEDED
    results = [_reused(o, judged, live) or judge(o, live, policy, None, unasked) for o in objects]
    if server is not None:
        again = [i for i, r in enumerate(results) if r.status == Status.MODIFIED]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            confirmed = pool.map(lambda i: judge(objects[i], live, policy, server), again)
            for i, result in zip(again, confirmed, strict=True):
                results[i] = result
    for key, obj in sorted(live.objects.items()):
        if key in wanted or not contract.is_ours(obj, env, cluster_name):
            continue
        if not generated_from(obj, wanted):
            results.append(_absent_or_extra(ObjectRef.of(obj), Status.EXTRA, policy))
    return results


def generated_from(obj: dict[str, Any], wanted: Mapping[Key, Any]) -> bool:
    """Whether a controller made `obj` from an object of git's, which owns it: istiod deploys
    each waypoint (an ambient namespace's Gateway of class `istio-waypoint`) as a Deployment,
    Service and ServiceAccount owned by that Gateway, copying the Gateway's labels onto them
    (ours included: pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go,
    `extractInfrastructureLabels`). Not extra: no sync prunes them, and deleting the Gateway
    removes them (Kubernetes' garbage collector follows the ownerReferences)."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace", "")
    for owner in meta.get("ownerReferences") or []:
        ref = ObjectRef(
            owner.get("apiVersion", ""), owner.get("kind", ""), namespace, owner.get("name", "")
        )
        if ref.key in wanted:
            return True
    return False


class Early:
    """Local verdicts on git's objects while the run still reads: the label-selected LISTs
    arrive as a stream (`fetch.Labelled.arrived`), and git's objects a chunk at a time as
    they are parsed; an object is judged as soon as both its chunk and its kind's LIST are
    in, so judging overlaps parsing and reading instead of following them. Everything else
    (labels edited away, a LIST forbidden or failing, a kind outside the label-selected set)
    is judged by judge_all with the complete live state."""

    def __init__(self, labelled: fetch.Labelled, policy: Policy) -> None:
        self.labelled = labelled
        self.policy = policy
        self.found: dict[tuple[str, str], dict[Key, dict[str, Any]] | None] = {}
        """What each kind's LIST found by identity (None: it failed), once it arrived."""
        self.waiting: dict[tuple[str, str], list[dict[str, Any]]] = {
            (group_of(v), k): [] for v, k in fetch.KNOWN_KINDS
        }
        """git's objects parsed before their kind's LIST arrived."""
        self.results: dict[Key, tuple[dict[str, Any], dict[str, Any], Result]] = {}
        """key -> (git's object judged, the live object it was judged against, the verdict)."""

    def judge(self, objects: Sequence[dict[str, Any]]) -> None:
        """Judge a chunk of git's objects: those whose kind's LIST is in now, the others
        when it arrives (the LISTs finished meanwhile are taken first, without waiting)."""
        self._take(self.labelled.arrived())
        for obj in objects:
            ref = ObjectRef.of(obj)
            if ref.group_kind in self.found:
                self._judge(obj, ref, self.found[ref.group_kind])
            elif ref.group_kind in self.waiting:
                self.waiting[ref.group_kind].append(obj)

    def finish(self) -> None:
        """Every object still waiting, as the LISTs it waits for finish."""
        self._take(self.labelled.arrived(wait=True))

    def _take(self, stream: Iterable[fetch.Listed]) -> None:
        for listed in stream:
            items = listed.items
            found = {ObjectRef.of(i).key: i for i in items} if items is not None else None
            self.found[listed.group_kind] = found
            for obj in self.waiting.pop(listed.group_kind, []):
                self._judge(obj, ObjectRef.of(obj), found)

    def _judge(
        self, obj: dict[str, Any], ref: ObjectRef, found: dict[Key, dict[str, Any]] | None
    ) -> None:
        current = (found or {}).get(ref.key)
        if current is not None:
            verdict = _judged(obj, ref, current, self.policy, None, model.NOT_NEEDED)
            self.results[ref.key] = (obj, current, verdict)


def _reused(
    obj: dict[str, Any],
    judged: dict[Key, tuple[dict[str, Any], dict[str, Any], Result]],
    live: fetch.Live,
) -> Result | None:
    """The early verdict, if `judge` would see the same now: the very objects it judged (git
    may hold one object twice; a later LIST may have read a newer one), and no error or
    absence for its kind."""
    ref = ObjectRef.of(obj)
    early = judged.get(ref.key)
    if early is None or early[0] is not obj or live.objects.get(ref.key) is not early[1]:
        return None
    if ref.group_kind in live.errors or ref.group_kind in live.unserved:
        return None
    return early[2]


def judge(
    obj: dict[str, Any],
    live: fetch.Live,
    policy: Policy,
    server: DryRunner | None,
    unasked: Confirmation = model.NO_SERVER,
) -> Result:
    """The verdict on one desired object (`unasked`: how a verdict the server was not asked
    about stands: there was none, or nothing to ask)."""
    ref = ObjectRef.of(obj)
    error = live.errors.get(ref.group_kind)
    if ref.group_kind in live.unserved:
        error = f"the cluster does not serve {ref.api_version} {ref.kind}"
    if error:
        return Result(ref, Status.UNKNOWN, error=error)
    current = live.objects.get(ref.key)
    if current is None:
        return _absent_or_extra(ref, Status.MISSING, policy)
    return _judged(obj, ref, current, policy, server, unasked)


def _judged(
    obj: dict[str, Any],
    ref: ObjectRef,
    current: dict[str, Any],
    policy: Policy,
    server: DryRunner | None,
    unasked: Confirmation,
) -> Result:
    try:
        raw, confirmation = differences(obj, current, policy, server, unasked)
    except MeshopsError as exc:  # the dry-run failed for another reason than RBAC
        return Result(ref, Status.UNKNOWN, error=str(exc))
    return _verdict(ref, raw, policy, confirmation)


def differences(
    applied: dict[str, Any],
    live: dict[str, Any],
    policy: Policy,
    server: DryRunner | None,
    unasked: Confirmation = model.NO_SERVER,
) -> tuple[list[Difference], Confirmation]:
    """Apply-semantics differences (local, confirmed by dry-run) plus ownership drift, and
    how they were confirmed.

    Values are compared masked (`desired`); field ownership is judged on the object as a
    sync applies it (`applied`: a Secret's `stringData` is owned as `stringData`).
    """
    desired = mask.secret(applied)
    builtin = ObjectRef.of(desired).group in fields.BUILTIN_GROUPS
    live_s = normalize.strip(live)
    live_c = _once(lambda: normalize.canonical(live_s))  # rarely needed whole
    owners = fields.owners(live)
    # git's object with the server's defaults filled in: what an old manager may own and
    # still be in sync (an adopted object). Only needed where a foreign manager owns fields.
    defaulted = _once(lambda: defaults.fill(applied))
    foreign = any(o.manager != OURS and o.manager not in policy.controllers for o in owners)
    diffs = compare.local(normalize.strip(desired), live_s, builtin)
    if not diffs and foreign:
        defaulted_c = normalize.canonical(normalize.strip(mask.secret(defaulted())))
        diffs = compare.taken(defaulted_c, live_c(), owners, OURS, policy.controllers)
    diffs, confirmation = _confirm(diffs, applied, live_c, server, unasked)
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


def _once(compute: Callable[[], T]) -> Callable[[], T]:
    """`compute()`, computed at the first call only (functools.cache builds a whole cache
    wrapper, a tenth of judging an object when made twice per object)."""
    box: list[T] = []

    def value() -> T:
        if not box:
            box.append(compute())
        return box[0]

    return value


def _confirm(
    diffs: list[Difference],
    applied: dict[str, Any],
    live_c: Callable[[], dict[str, Any]],
    server: DryRunner | None,
    unasked: Confirmation,
) -> tuple[list[Difference], Confirmation]:
    """The dry-run's differences instead of the local ones, when it can be asked; else the
    local ones, with the reason they stand (never a silent fallback)."""
    if server is None:
        return diffs, unasked
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
    predicted_c = normalize.canonical(normalize.strip(predicted))
    return compare.predicted(predicted_c, live_c()), model.DRY_RUN


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
        path="/metadata/managedFields",
        change=Change.CHANGED,
        desired=OURS,
        live=sorted({o.manager for o in owners}),
        manager=first.manager,
        operation=first.operation,
        time=first.time,
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


def _verdict(
    ref: ObjectRef, raw: list[Difference], policy: Policy, confirmation: Confirmation
) -> Result:
    kept, ignored = [], 0
    for diff in raw:
        if any(rule.silences(ref, diff) for rule in policy.ignore):
            ignored += 1
        else:
            kept.append(dataclasses.replace(diff, severity=policy.change_severity(ref.kind, diff)))
    if not kept:
        return Result(ref, Status.IN_SYNC, ignored=ignored, confirmed_by=confirmation)
    worst = min((d.severity for d in kept), key=lambda s: s.rank)
    return Result(
        ref,
        Status.MODIFIED,
        tuple(sorted(kept, key=lambda d: d.path)),
        ignored=ignored,
        severity=worst,
        confirmed_by=confirmation,
    )


def _absent_or_extra(ref: ObjectRef, status: Status, policy: Policy) -> Result:
    if policy.whole_object_ignored(ref):
        return Result(ref, Status.IN_SYNC, ignored=1)
    return Result(ref, status, severity=policy.object_severity(ref.kind))
