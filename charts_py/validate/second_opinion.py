"""Istio's analyzers as a second opinion: istioctl's messages merged as findings.

Each cluster's files go to `istioctl analyze` together (validate/istioctl.py runs it). A
message becomes a finding `istio/<code>` on the object it names, at Istio's level (Error,
Warning, Info -> error, warning, info), in every report format. Three things turn one into a
suppressed finding, each shown with its reason, never dropped:
- the object's `meshops.dev/suppress` annotation names `istio/<code>`;
- it reports a reference to an object declared out of band (config/out_of_band.py);
- it is a known blind spot of offline istioctl (OFFLINE below), where a native rule that
  reads what istioctl cannot is the authority.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from charts_py.config.out_of_band import External
from charts_py.validate import engine, istioctl
from charts_py.validate.documents import Document
from charts_py.validate.findings import Finding, ObjectRef, Report, Severity, Suppressed, istio_rule
from charts_py.validate.scope import Scope, namespace, resolve, scopes
from charts_py.validate.targets import Target

LEVELS = {"Error": Severity.ERROR, "Warning": Severity.WARNING, "Info": Severity.INFO}
ABSENT = (
    "istioctl not found: Istio's analyzers did not run (set ISTIOCTL or put istioctl on "
    "PATH; scripts/istioctl/build.sh builds the pinned one)"
)
_REFERENCE = re.compile(r'^Referenced (?P<what>[a-zA-Z+ ]+) not found: "(?P<value>.*)"$')


@dataclass(frozen=True)
class Blind:
    """A message offline istioctl gives because it cannot see what a cluster has, and when
    the native rule that can see it has judged the object (so its silence is a pass)."""

    code: str
    kind: str
    reason: str
    judged: Callable[[Scope, Document], bool]


def _pods_visible(scope: Scope, rule: Document) -> bool:
    """subset-selects-pods judges a DestinationRule whose host's workloads are in the files."""
    return bool(scope.pods_behind(resolve(str(rule.spec.get("host", "")), namespace(rule))))


OFFLINE = (
    Blind(
        "IST0173",
        "DestinationRule",
        "offline istioctl reads no Pods (controllers make them from the workloads in these "
        "files); the native rule subset-selects-pods checked the pod templates instead",
        _pods_visible,
    ),
)
"""Messages offline istioctl gives on correct manifests, with the native rule that decides."""


def review(targets: Sequence[Target]) -> Report:
    """istioctl's findings on every cluster of `targets`; a note if istioctl is absent."""
    binary = istioctl.locate()
    if binary is None:
        return Report(notes=[ABSENT])
    report = Report(notes=[f"istioctl analyze ({istioctl.version(binary)}) ran on each cluster"])
    for target in targets:
        for scope in scopes(target.docs, target.external):
            files = sorted({doc.file for doc in scope.docs})
            report = report.merged(judge(scope, istioctl.analyze(binary, files)))
    return report


def judge(scope: Scope, messages: Sequence[istioctl.Message]) -> Report:
    """Findings of one cluster's messages, minus the suppressed ones (kept with reasons)."""
    waivers = engine.suppressions(scope.docs)
    findings: list[Finding] = []
    silenced: list[Suppressed] = []
    for message in messages:
        doc = _document(scope, message)
        finding = _finding(message, doc)
        waiver = waivers.get(doc) if doc is not None else None
        reason = waiver.reason if waiver and finding.rule in waiver.rules else None
        reason = reason or _out_of_band(scope.external, message) or _blind(scope, message, doc)
        if reason:
            silenced.append(Suppressed(finding, reason))
        else:
            findings.append(finding)
    return Report(findings=sorted(findings, key=lambda f: f.sort_key), suppressed=silenced)


def _document(scope: Scope, message: istioctl.Message) -> Document | None:
    """The object a message is about (istioctl puts unqualified objects in `default`)."""
    for doc in scope.of(message.kind):
        if doc.name == message.name and message.namespace in (doc.namespace, namespace(doc)):
            return doc
    return None


def _finding(message: istioctl.Message, doc: Document | None) -> Finding:
    ref = doc.ref if doc is not None else None
    if ref is None:
        ref = ObjectRef(message.file, "", message.kind, message.namespace, message.name)
    text = f"{message.text} (istioctl analyze: {message.url})"
    severity = LEVELS.get(message.level, Severity.WARNING)
    return Finding(istio_rule(message.code), severity, ref, "", text, message.line)


def _out_of_band(external: Sequence[External], message: istioctl.Message) -> str | None:
    """The declaration of an out-of-band object that a "Referenced ... not found" names."""
    found = _REFERENCE.match(message.text) if message.code == "IST0101" else None
    if found is None:
        return None
    what, value = found["what"], found["value"]
    for item in external:
        if what == "selector" and item.kind == "Deployment" and _selected(value, item):
            return f"{item.kind} {item.namespace}/{item.name} is out of band: {item.provided_by}"
        if what == "credentialName" and item.kind == "Secret" and item.name == value:
            return f"Secret {item.namespace}/{item.name} is out of band: {item.provided_by}"
    return None


def _selected(selector: str, item: External) -> bool:
    """Whether istioctl's printed label selector (`k=v,k2=v2`) matches the item's labels."""
    pairs = [part.partition("=") for part in selector.split(",") if part]
    return bool(pairs) and all(item.labels.get(k) == v for k, _, v in pairs)


def _blind(scope: Scope, message: istioctl.Message, doc: Document | None) -> str | None:
    for blind in OFFLINE:
        if (blind.code, blind.kind) == (message.code, message.kind) and doc is not None:
            return blind.reason if blind.judged(scope, doc) else None
    return None
