"""Run every check over the objects and judge the outcomes under a profile.

evaluate() is profile-free: it returns every pass and failure of every rule, which is what
the audit reports. judge() turns failures into findings with the profile's severity,
applies suppressions, and drops rules that are off under the profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from charts_py.config.installation import Installation
from charts_py.errors import MeshopsError
from charts_py.validate import suppress
from charts_py.validate.documents import Document
from charts_py.validate.findings import Finding, Report, Suppressed
from charts_py.validate.rules import ESTATE_CHECKS, SCOPE_CHECKS
from charts_py.validate.rules.base import Outcome
from charts_py.validate.rules.catalog import BY_ID, Rule
from charts_py.validate.scope import Scope, scopes

INVALID_SUPPRESSION = "suppression-invalid"


class ValidationFailed(MeshopsError):
    """Manifests break rules at error severity; the message lists every error, one a line."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__("\nmeshops: error: ".join(f.text for f in report.errors))


@dataclass(frozen=True)
class Evaluation:
    """One outcome of one rule's check."""

    rule: Rule
    outcome: Outcome


def evaluate(groups: Sequence[Scope]) -> list[Evaluation]:
    """Every outcome of every check over `groups` (clusters), passes included."""
    out: list[Evaluation] = []
    for rule_id, scope_check in SCOPE_CHECKS.items():
        for scope in groups:
            out += [Evaluation(BY_ID[rule_id], o) for o in scope_check(scope)]
    for rule_id, estate_check in ESTATE_CHECKS.items():
        out += [Evaluation(BY_ID[rule_id], o) for o in estate_check(groups)]
    return out


def suppressions(docs: Sequence[Document]) -> dict[Document, suppress.Suppression]:
    """The valid suppression of each object that has one."""
    found = {doc: suppress.parse(doc, BY_ID)[0] for doc in docs}
    return {doc: s for doc, s in found.items() if s is not None}


def judge(docs: Sequence[Document], evaluations: Sequence[Evaluation], profile: str) -> Report:
    """Findings under `profile`: failures of rules that apply, minus suppressed ones."""
    opted_out = suppressions(docs)
    today = suppress.today()
    findings: list[Finding] = []
    silenced: list[Suppressed] = []
    for evaluation in evaluations:
        rule, outcome = evaluation.rule, evaluation.outcome
        severity = rule.severity(profile)
        if outcome.passed or severity is None:
            continue
        doc = outcome.doc
        line = doc.line_of(outcome.path)
        message = f"{outcome.message} (fix: {rule.fix})"
        if outcome.at_most is not None:
            severity = max(severity, outcome.at_most, key=lambda s: s.rank)
        if outcome.assumption:
            message = f"{outcome.message}, assuming {outcome.assumption} (fix: {rule.fix})"
        reason, expired = suppress.verdict(opted_out.get(doc), rule.id, today)
        finding = Finding(
            rule=rule.id,
            severity=severity,
            obj=doc.located,
            path=outcome.path,
            message=message + expired,
            line=line,
        )
        if reason is not None:
            silenced.append(Suppressed(finding, reason))
        else:
            findings.append(finding)
    findings += _invalid_suppressions(docs, profile)
    unique = {(f.rule, f.obj, f.path, f.message): f for f in findings}
    return Report(
        findings=sorted(unique.values(), key=lambda f: f.sort_key),
        suppressed=silenced,
        objects=sorted({d.located for d in docs}),
    )


def _invalid_suppressions(docs: Sequence[Document], profile: str) -> list[Finding]:
    rule = BY_ID[INVALID_SUPPRESSION]
    severity = rule.severity(profile)
    out = []
    for doc in docs:
        problem = suppress.parse(doc, BY_ID)[1]
        if problem is not None and severity is not None:
            line = doc.line_of(suppress.PATH)
            out.append(
                Finding(
                    rule=rule.id,
                    severity=severity,
                    obj=doc.located,
                    path=suppress.PATH,
                    message=problem,
                    line=line,
                )
            )
    return out


def validate(
    docs: Sequence[Document],
    profile: str,
    installations: Sequence[Installation] = (),
) -> Report:
    """Check `docs` (one cluster per `meshops.dev/cluster` label) under `profile`, each
    cluster with its declared installation (config/installation.py)."""
    return judge(docs, evaluate(scopes(docs, installations)), profile)
