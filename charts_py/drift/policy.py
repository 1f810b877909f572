"""How much a difference matters, which ones to ignore, and which managers are expected.

Defaults below; an environment file's `drift:` block adds its own rules in front (first
match wins), so a team can raise, lower or silence exactly what it means to.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from charts_py.drift.model import Difference, ObjectRef, Severity

# Managers that write fields as part of normal operation, never by a person's hand.
KNOWN_CONTROLLERS = frozenset(
    {
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-apiserver",
        "pilot-discovery",
        "istiod",
        "istio-operator",
        "prometheus-operator",
        "argocd-application-controller",
        "meshops",
    }
)


@dataclass(frozen=True)
class SeverityRule:
    """Kinds and a JSON Pointer glob (`*` matches within and across segments)."""

    kind: str
    path: str
    severity: Severity

    def matches(self, kind: str, pointer: str) -> bool:
        return fnmatch.fnmatchcase(kind, self.kind) and (
            fnmatch.fnmatchcase(pointer, self.path)
            or fnmatch.fnmatchcase(pointer, self.path + "/*")
        )


CRITICAL, HIGH, MEDIUM, LOW = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW

DEFAULT_SEVERITY: tuple[SeverityRule, ...] = (
    SeverityRule("*", "/metadata/labels", LOW),
    SeverityRule("*", "/metadata/annotations", LOW),
    SeverityRule("PeerAuthentication", "*", CRITICAL),
    SeverityRule("AuthorizationPolicy", "*", CRITICAL),
    SeverityRule("RequestAuthentication", "*", CRITICAL),
    SeverityRule("ServiceEntry", "*", CRITICAL),
    SeverityRule("Sidecar", "/spec/egress", CRITICAL),
    SeverityRule("Sidecar", "/spec/outboundTrafficPolicy", CRITICAL),
    SeverityRule("Sidecar", "*", HIGH),
    SeverityRule("DestinationRule", "/spec/trafficPolicy/tls", CRITICAL),
    SeverityRule("VirtualService", "/spec/http/*/fault", CRITICAL),
    SeverityRule("VirtualService", "*", HIGH),
    SeverityRule("DestinationRule", "*", HIGH),
    SeverityRule("Gateway", "*", HIGH),
    SeverityRule("Deployment", "/spec/template/spec/containers/*/image", HIGH),
    SeverityRule("Deployment", "/spec/template/spec/serviceAccountName", HIGH),
    SeverityRule("*", "*", MEDIUM),
)


@dataclass(frozen=True)
class IgnoreRule:
    """Silence differences: by kind/namespace/name globs, plus a pointer prefix or a manager.

    A rule with neither `path` nor `manager` silences whole objects (missing/extra too).
    """

    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    path: str | None = None
    manager: str | None = None

    def selects(self, ref: ObjectRef) -> bool:
        return (
            fnmatch.fnmatchcase(ref.kind, self.kind)
            and fnmatch.fnmatchcase(ref.namespace, self.namespace)
            and fnmatch.fnmatchcase(ref.name, self.name)
        )

    def silences(self, ref: ObjectRef, diff: Difference) -> bool:
        if not self.selects(ref):
            return False
        if self.manager is not None and diff.manager != self.manager:
            return False
        return (
            self.path is None
            or diff.path == self.path
            or diff.path.startswith(self.path.rstrip("/") + "/")
        )


@dataclass(frozen=True)
class Policy:
    """The rules one drift run applies."""

    severity: tuple[SeverityRule, ...] = DEFAULT_SEVERITY
    ignore: tuple[IgnoreRule, ...] = ()
    controllers: frozenset[str] = KNOWN_CONTROLLERS

    def severity_of(self, kind: str, pointer: str) -> Severity:
        for rule in self.severity:
            if rule.matches(kind, pointer):
                return rule.severity
        return MEDIUM

    def object_severity(self, kind: str) -> Severity:
        """A missing or extra object: as a change of its whole spec."""
        return self.severity_of(kind, "/spec")

    def whole_object_ignored(self, ref: ObjectRef) -> bool:
        return any(r.path is None and r.manager is None and r.selects(ref) for r in self.ignore)
