"""How much a difference matters, which ones to ignore, and which managers are expected.

Defaults below; an environment file's `drift:` block adds its own rules in front (first
match wins), so a team can raise, lower or silence exactly what it means to.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from charts_py import jsonpointer
from charts_py.drift.model import Difference, Severity
from charts_py.objectref import ObjectRef

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


@dataclass(frozen=True, kw_only=True)
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

    def change_severity(self, kind: str, diff: Difference) -> Severity:
        """The worst of the difference's path and of every leaf that differs inside its
        values: a replaced `/spec/http` list that adds a fault route is a fault change."""
        found = [self.severity_of(kind, diff.path)]
        for pointer in _differing_leaves(diff.desired, diff.live, diff.path.rstrip("/")):
            found.append(self.severity_of(kind, pointer))
        return min(found, key=lambda s: s.rank)

    def object_severity(self, kind: str) -> Severity:
        """A missing or extra object: as a change of its whole spec."""
        return self.severity_of(kind, "/spec")

    def whole_object_ignored(self, ref: ObjectRef) -> bool:
        return any(r.path is None and r.manager is None and r.selects(ref) for r in self.ignore)


_ABSENT = object()


def _differing_leaves(desired: Any, live: Any, at: str) -> Iterator[str]:
    """JSON Pointers below `at` where the two values differ (leaves, or a side's absence)."""
    if isinstance(desired, dict) or isinstance(live, dict):
        d = desired if isinstance(desired, dict) else {}
        lv = live if isinstance(live, dict) else {}
        for key in sorted(set(d) | set(lv), key=str):
            yield from _differing_leaves(
                d.get(key, _ABSENT), lv.get(key, _ABSENT), at + jsonpointer.step(key)
            )
    elif isinstance(desired, list) or isinstance(live, list):
        d_items = desired if isinstance(desired, list) else []
        l_items = live if isinstance(live, list) else []
        for i in range(max(len(d_items), len(l_items))):
            d_item = d_items[i] if i < len(d_items) else _ABSENT
            l_item = l_items[i] if i < len(l_items) else _ABSENT
            yield from _differing_leaves(d_item, l_item, f"{at}/{i}")
    elif desired != live:
        yield at
