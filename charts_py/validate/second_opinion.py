"""Istio's analyzers as a second opinion: istioctl's messages merged as findings.

Each cluster's files go to `istioctl analyze` together (validate/istioctl.py runs it). A
message becomes a finding `istio/<code>` on the object it names, at Istio's level (Error,
Warning, Info -> error, warning, info), in every report format; the object's
`meshops.dev/suppress` annotation may name `istio/<code>` with a reason.

Offline, istioctl skips every analyzer that needs Pods, Services, Namespaces, Deployments or
Secrets (it reads none of them from files): annotations, UID 1337, subsets without pods,
gateway ports and credentials, destination hosts and ports, IST0140. The native rules read
those objects and stay the authority; the docs' table says which codes only a live cluster gets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from charts_py.objectref import ObjectRef
from charts_py.validate import engine, istioctl, suppress
from charts_py.validate.documents import Document
from charts_py.validate.findings import Finding, Located, Report, Severity, Suppressed, istio_rule
from charts_py.validate.scope import Scope, namespace, scopes
from charts_py.validate.targets import Target

LEVELS = {"Error": Severity.ERROR, "Warning": Severity.WARNING, "Info": Severity.INFO}
ABSENT = (
    "istioctl not found: Istio's analyzers did not run (set ISTIOCTL or put istioctl on "
    "PATH; `scripts/tools.py build istioctl` builds the pinned one)"
)
NOT_ASKED = "istioctl analyze not run (--no-istioctl): Istio's analyzers gave no second opinion"


def skipped() -> Report:
    """No second opinion, asked for (`--no-istioctl`): the report says so."""
    return Report(notes=[NOT_ASKED])


def review(targets: Sequence[Target]) -> Report:
    """istioctl's findings on every cluster of `targets`; a note if istioctl is absent."""
    binary = istioctl.locate()
    if binary is None:
        return Report(notes=[ABSENT])
    report = Report(notes=[f"istioctl analyze ({istioctl.version(binary)}) ran on each cluster"])
    for target in targets:
        if target.namespace != "default":
            report = report.merged(Report(notes=[_narrowed(target.namespace)]))
        for scope in scopes(target.docs, target.installations):
            files = sorted({doc.file for doc in scope.docs})
            analysis = istioctl.analyze(binary, files, target.namespace)
            notes = [f"istioctl skipped an object: {line}" for line in analysis.skipped]
            report = report.merged(judge(scope, analysis.messages)).merged(Report(notes=notes))
    return report


def _narrowed(ns: str) -> str:
    return (
        f"istioctl analyze ran with --namespace {ns} (its namespace for objects without one): "
        f"it reports on objects in {ns} and cluster-scoped ones only"
    )


def judge(scope: Scope, messages: Sequence[istioctl.Message]) -> Report:
    """Findings of one cluster's messages, minus the suppressed ones (kept with reasons)."""
    waivers = engine.suppressions(scope.docs)
    today = suppress.today()
    findings: list[Finding] = []
    silenced: list[Suppressed] = []
    for message in messages:
        doc = _document(scope, message)
        finding = _finding(message, doc)
        waiver = waivers.get(doc) if doc is not None else None
        reason, expired = suppress.verdict(waiver, finding.rule, today)
        if reason is not None:
            silenced.append(Suppressed(finding, reason))
        else:
            findings.append(dataclasses.replace(finding, message=finding.message + expired))
    return Report(findings=sorted(findings, key=lambda f: f.sort_key), suppressed=silenced)


def _document(scope: Scope, message: istioctl.Message) -> Document | None:
    """The object a message is about (istioctl puts unqualified objects in `default`; it
    names kinds without their group, so an Istio kind is preferred to another group's)."""
    candidates = sorted(
        (d for d in scope.docs if d.kind == message.kind),
        key=lambda d: not d.group_kind.group.endswith("istio.io"),
    )
    for doc in candidates:
        if doc.name == message.name and message.namespace in (doc.namespace, namespace(doc)):
            return doc
    return None


def _finding(message: istioctl.Message, doc: Document | None) -> Finding:
    if doc is not None:
        where = doc.located
    else:
        ref = ObjectRef("", message.kind, message.namespace, message.name)
        where = Located(message.file, ref)
    text = f"{message.text} (istioctl analyze: {message.url})"
    severity = LEVELS.get(message.level, Severity.WARNING)
    return Finding(
        rule=istio_rule(message.code),
        severity=severity,
        obj=where,
        path="",
        message=text,
        line=message.line,
    )
