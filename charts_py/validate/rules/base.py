"""What a check returns and how checks are registered under their rule ids.

A check looks at one Scope (one cluster) and yields an Outcome per thing it judged: a
failure, or, where an audit control needs evidence, a pass. `meshops validate` keeps the
failures; `meshops audit` shows both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from charts_py.validate.documents import Document
from charts_py.validate.findings import Severity
from charts_py.validate.scope import Scope


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """One judgement of one object at a JSON Pointer: failed (with how) or passed.

    `evidence` and `evidence_path` name another object's field when that is what shows the
    pass (the HorizontalPodAutoscaler that scales a Deployment, for instance).
    """

    doc: Document
    path: str
    message: str
    passed: bool = False
    evidence: Document | None = None
    evidence_path: str = ""
    assumption: str = ""
    """What the failure takes for granted that the input does not show (the gateway
    Service's ports, the mesh's DNS auto-allocation): said in the message, and reported
    as a warning at most."""
    at_most: Severity | None = None
    """A ceiling on the rule's severity for this failure (a risk, not a breakage)."""


def fail(
    doc: Document,
    path: str,
    message: str,
    *,
    assuming: str = "",
    at_most: Severity | None = None,
) -> Outcome:
    """A violation of the rule by `doc` at `path`; `message` says what and how to fix;
    `assuming`, what it takes for granted that the input does not show; `at_most`, a
    ceiling on its severity."""
    ceiling = Severity.WARNING if assuming and at_most is None else at_most
    return Outcome(doc=doc, path=path, message=message, assumption=assuming, at_most=ceiling)


def ok(
    doc: Document, path: str, message: str, *, evidence: Document | None = None, at: str = ""
) -> Outcome:
    """A pass, shown by `doc` at `path` (or by `evidence` at `at`)."""
    return Outcome(
        doc=doc, path=path, message=message, passed=True, evidence=evidence, evidence_path=at
    )


ScopeCheck = Callable[[Scope], Iterator[Outcome]]
EstateCheck = Callable[[Sequence[Scope]], Iterator[Outcome]]

SCOPE_CHECKS: dict[str, ScopeCheck] = {}
ESTATE_CHECKS: dict[str, EstateCheck] = {}
"""Checks over several clusters at once (an environment's primaries)."""


def check(rule: str) -> Callable[[ScopeCheck], ScopeCheck]:
    """Register a per-cluster check under `rule` (an id of catalog.RULES)."""

    def register(function: ScopeCheck) -> ScopeCheck:
        SCOPE_CHECKS[rule] = function
        return function

    return register


def estate_check(rule: str) -> Callable[[EstateCheck], EstateCheck]:
    """Register a check that compares clusters under `rule`."""

    def register(function: EstateCheck) -> EstateCheck:
        ESTATE_CHECKS[rule] = function
        return function

    return register
