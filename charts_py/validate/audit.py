"""A compliance report for one environment, built from the validation rules' outcomes.

Each rule in the catalog names the control it gives evidence for; the audit runs the same
checks as `meshops validate` over dist/<env> (all clusters) and lists, per control, every
pass and failure with the file and JSON Pointer that shows it, and the suppressions with
their reasons. Failures count whatever the profile's severity: an audit states facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from charts_py.contract import CLUSTER
from charts_py.validate import engine, suppress
from charts_py.validate.documents import Document
from charts_py.validate.rules.catalog import CONTROLS
from charts_py.validate.scope import scopes
from charts_py.validate.targets import Target


@dataclass(frozen=True, kw_only=True)
class Check:
    """One row: a rule's verdict on one object, and the evidence."""

    control: str
    rule: str
    status: str  # pass | fail | suppressed
    doc: Document
    file: str
    path: str
    message: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Audit:
    """Every control's checks for one environment."""

    env: str
    profile: str
    objects: int
    clusters: list[str]
    checks: list[Check]
    suppressions: list[tuple[Document, str, str]]

    def of(self, control: str) -> list[Check]:
        return [c for c in self.checks if c.control == control]

    def status(self, control: str) -> str:
        rows = self.of(control)
        if not rows:
            return "no evidence"
        return "fail" if any(c.status == "fail" for c in rows) else "pass"


def build(env: str, target: Target) -> Audit:
    """Run the checks over `target` (dist/<env>) and arrange them by control."""
    groups = scopes(target.docs, target.installations)
    waivers = engine.suppressions(target.docs)
    today = suppress.today()
    checks = []
    for evaluation in engine.evaluate(groups):
        rule, outcome = evaluation.rule, evaluation.outcome
        if not rule.control:
            continue
        shown = outcome.evidence or outcome.doc
        status, reason = ("pass", "") if outcome.passed else ("fail", "")
        waived, _ = suppress.verdict(waivers.get(outcome.doc), rule.id, today)
        if not outcome.passed and waived is not None:
            status, reason = "suppressed", waived
        path = outcome.evidence_path or outcome.path
        checks.append(
            Check(
                control=rule.control,
                rule=rule.id,
                status=status,
                doc=outcome.doc,
                file=shown.file,
                path=path,
                message=outcome.message,
                reason=reason,
            )
        )
    suppressed = [(d, ", ".join(sorted(w.rules)), w.reason) for d, w in waivers.items()]
    clusters = [g.name for g in groups]
    return Audit(
        env=env,
        profile=target.profile,
        objects=len(target.docs),
        clusters=clusters,
        checks=checks,
        suppressions=suppressed,
    )


def _object(doc: Document) -> str:
    cluster = doc.labels.get(CLUSTER)
    ident = f"{doc.kind} {doc.namespace + '/' if doc.namespace else ''}{doc.name}"
    return f"{ident} ({cluster})" if cluster else ident


def markdown(audit: Audit) -> str:
    """The report as Markdown: a summary table, then one table per control."""
    lines = [
        f"# Compliance report: {audit.env} (profile {audit.profile})",
        "",
        f"{audit.objects} objects in {', '.join(audit.clusters) or 'one set'}.",
        "",
        "| control | status | pass | fail | suppressed |",
        "|---|---|---|---|---|",
    ]
    for control, title in CONTROLS.items():
        counts = [sum(1 for c in audit.of(control) if c.status == s) for s in _STATUSES]
        lines.append(
            f"| {title} | {audit.status(control)} | " + " | ".join(map(str, counts)) + " |"
        )
    for control, title in CONTROLS.items():
        lines += ["", f"## {title}", "", "| result | object | rule | evidence | detail |"]
        lines.append("|---|---|---|---|---|")
        for c in sorted(audit.of(control), key=lambda c: (_ORDER[c.status], c.file, c.path)):
            detail = f"{c.message} (suppressed: {c.reason})" if c.reason else c.message
            evidence = f"`{c.file}#{c.path}`"
            lines.append(
                f"| {c.status} | {_object(c.doc)} | {c.rule} | {evidence} | {_cell(detail)} |"
            )
    lines += ["", "## Suppressions", ""]
    if not audit.suppressions:
        lines.append("None.")
    else:
        lines += ["| object | rules | reason |", "|---|---|---|"]
        lines += [f"| {_object(d)} | {r} | {_cell(why)} |" for d, r, why in audit.suppressions]
    return "\n".join(lines) + "\n"


_STATUSES = ("pass", "fail", "suppressed")
_ORDER = {"fail": 0, "suppressed": 1, "pass": 2}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_json(audit: Audit) -> str:
    """The report as JSON: controls with their checks, and the suppressions."""
    body: dict[str, Any] = {
        "schemaVersion": 1,
        "env": audit.env,
        "profile": audit.profile,
        "objects": audit.objects,
        "clusters": audit.clusters,
        "controls": [
            {
                "id": control,
                "title": title,
                "status": audit.status(control),
                "checks": [_check_json(c) for c in audit.of(control)],
            }
            for control, title in CONTROLS.items()
        ],
        "suppressions": [
            {**_identity(d), "rules": rules.split(", "), "reason": reason}
            for d, rules, reason in audit.suppressions
        ],
    }
    return json.dumps(body, indent=2) + "\n"


def _identity(doc: Document) -> dict[str, Any]:
    return {**doc.located.ref.to_json(), "cluster": doc.labels.get(CLUSTER, "")}


def _check_json(check: Check) -> dict[str, Any]:
    out = {"rule": check.rule, "status": check.status, **_identity(check.doc)}
    out |= {"file": check.file, "path": check.path, "message": check.message}
    return out | ({"reason": check.reason} if check.reason else {})


def render(audit: Audit, fmt: str) -> str:
    return markdown(audit) if fmt == "markdown" else to_json(audit)
