"""The environment's drift waivers (`drift.waivers`): each one still in force and still
about something. An expired waiver no longer silences anything (its finding alerts again),
and one that matches no object of the environment's clusters silences nothing: both are
dead configuration that hides what the file claims."""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Iterator, Sequence

from charts_py import naming
from charts_py.config.model import DriftWaiver
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, estate_check, fail
from charts_py.validate.scope import Scope, namespace

JOB = "meshops-drift"


@estate_check("drift-waiver")
def drift_waivers(groups: Sequence[Scope]) -> Iterator[Outcome]:
    waivers = next((s.waivers for s in groups if s.waivers), ())
    docs = [doc for scope in groups for doc in scope.docs]
    anchor = _anchor(groups)
    if anchor is None:
        return
    today = datetime.datetime.now(datetime.UTC).date()
    for i, waiver in enumerate(waivers):
        what = f"drift.waivers[{i}] ({_describe(waiver)})"
        if waiver.expires <= today:
            yield fail(anchor, "", f"{what} expired on {waiver.expires}: it waives nothing now")
        if not any(_selects(waiver, doc) for doc in docs):
            yield fail(anchor, "", f"{what} matches no object of this environment's clusters")


def _anchor(groups: Sequence[Scope]) -> Document | None:
    """Where the finding is reported: the drift CronJob the waivers configure, else the
    first object checked."""
    docs = [doc for scope in groups for doc in scope.docs]
    job = next(
        (
            d
            for d in docs
            if d.kind == "CronJob" and d.name == JOB and namespace(d) == naming.DRIFT_NAMESPACE
        ),
        None,
    )
    return job or (docs[0] if docs else None)


def _selects(waiver: DriftWaiver, doc: Document) -> bool:
    return (
        fnmatch.fnmatchcase(doc.kind, waiver.kind)
        and fnmatch.fnmatchcase(namespace(doc), waiver.namespace)
        and fnmatch.fnmatchcase(doc.name, waiver.name)
    )


def _describe(waiver: DriftWaiver) -> str:
    where = f"{waiver.kind} {waiver.namespace}/{waiver.name} {waiver.path or ''}".rstrip()
    return f"{where}, owner {waiver.owner}"
