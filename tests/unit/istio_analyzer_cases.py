"""Istio's analyzer test table (analyzers_test.go) read as data, and each case replayed
through meshops validate. Used by test_istio_analyzer_cases.py; run as a script it prints
the coverage numbers that docs/validate.md quotes:

    .venv/bin/python -m tests.unit.istio_analyzer_cases
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charts_py.validate import documents, engine
from charts_py.validate.findings import Finding, Report, Severity

ANALYZERS = Path(__file__).resolve().parents[1] / "testdata/istio/pkg/config/analysis/analyzers"
TABLE = ANALYZERS / "analyzers_test.go"
PROFILE = "dev"
"""The loosest profile: an error there means broken whatever the environment's policy."""

_VS_REFERENCES = ("host-resolves", "subset-exists", "gateway-exists")
_SELECTORS = ("selector-matches-workload",)
COVERED: dict[tuple[str, str], tuple[str, ...]] = {
    ("ReferencedResourceNotFound", "VirtualService"): _VS_REFERENCES,
    ("ReferencedResourceNotFound", "Gateway"): ("gateway-workload-exists",),
    ("ReferencedResourceNotFound", "Sidecar"): _SELECTORS,
    ("ReferencedResourceNotFound", "Telemetry"): _SELECTORS,
    ("VirtualServiceHostNotFoundInGateway", "VirtualService"): ("gateway-serves-host",),
    ("ConflictingMeshGatewayVirtualServiceHosts", "VirtualService"): (
        "virtualservice-host-unique",
    ),
    ("VirtualServiceIneffectiveMatch", "VirtualService"): ("route-unreachable",),
    ("VirtualServiceUnreachableRule", "VirtualService"): ("route-unreachable",),
    ("ConflictingGateways", "Gateway"): ("gateway-host-port",),
    ("NamespaceMultipleInjectionLabels", "Namespace"): ("namespace-injection",),
    ("NoServerCertificateVerificationDestinationLevel", "DestinationRule"): (
        "destination-tls-verify",
    ),
    ("NoServerCertificateVerificationPortLevel", "DestinationRule"): ("destination-tls-verify",),
    ("ServiceEntryAddressesRequired", "ServiceEntry"): ("service-entry-addresses",),
    ("GatewayPortNotDefinedOnService", "Gateway"): ("gateway-service-port",),
    ("ConflictingSidecarWorkloadSelectors", "Sidecar"): ("selector-unique",),
    ("ConflictingTelemetryWorkloadSelectors", "Telemetry"): ("selector-unique",),
    ("MultipleSidecarsWithoutWorkloadSelectors", "Sidecar"): ("sidecar-unique",),
    ("MultipleTelemetriesWithoutWorkloadSelectors", "Telemetry"): ("telemetry-unique",),
    ("InvalidApplicationUID", "Pod"): ("proxy-uid",),
    ("InvalidApplicationUID", "Deployment"): ("proxy-uid",),
    ("PortNameIsNotUnderNamingConvention", "Service"): ("service-port-protocol",),
    ("DestinationRuleSubsetNotSelectPods", "DestinationRule"): ("subset-selects-pods",),
    ("VirtualServiceDestinationPortSelectorRequired", "VirtualService"): ("destination-port",),
    ("UnknownAnnotation", "Service"): ("istio-annotation",),
    ("IngressRouteRulesNotAffected", "VirtualService"): ("gateway-route-subsets",),
    ("IneffectivePolicy", "Sidecar"): ("sidecar-ambient",),
    **{
        ("IneffectiveSelector", kind): ("gateway-policy-target",)
        for kind in ("AuthorizationPolicy", "RequestAuthentication", "Telemetry", "WasmPlugin")
    },
}
"""The (message class, object kind) pairs a meshops rule checks, and the rules reporting
them: every class a rule's `istio` column (rules/catalog.py) names, on the kinds that rule
reads. ReferencedResourceNotFound on an AuthorizationPolicy (a namespace that does not
exist) has no rule: whether a namespace exists is the cluster's state."""
OTHER_REFERENCES = {
    "gatewaySecret": "a Gateway's credentialName Secret: Secrets are never in git (no-secrets)",
}
"""Cases whose ReferencedResourceNotFound is about a reference no meshops rule reads, though
another reference of the same kind of object is (a Gateway's selector)."""


@dataclass(frozen=True)
class Expected:
    """One message Istio's test expects: its class, and the object (`Kind [ns/]name`)."""

    message: str
    kind: str
    namespace: str | None
    name: str

    @property
    def origin(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace is not None else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Case:
    """One entry of Istio's testGrid."""

    name: str
    files: tuple[str, ...]
    expected: tuple[Expected, ...]

    @property
    def key(self) -> str:
        """The name, made unique (Istio reuses some) by the first file."""
        return f"{self.name} ({Path(self.files[0]).name})"


_ENTRY = re.compile(r"\{msg\.(\w+),\s*\"([^\"]+)\"\}")


def cases() -> list[Case]:
    """The testGrid of the committed analyzers_test.go, in order."""
    text = TABLE.read_text(encoding="utf-8")
    grid = text[text.index("var testGrid = []testCase{") :]
    grid = grid[: grid.index("\n}\n")]
    out = []
    for entry in re.split(r"\n\t\{\n", grid)[1:]:
        name = re.search(r'name:\s*"([^"]+)"', entry)
        if name is None:
            continue
        files = tuple(re.findall(r'"(testdata/[^"]+\.yaml)"', entry))
        expected = tuple(_expected(kind, origin) for kind, origin in _ENTRY.findall(entry))
        out.append(Case(name.group(1), files, expected))
    return out


def _expected(message: str, origin: str) -> Expected:
    kind, _, full = origin.partition(" ")
    namespace, slash, name = full.rpartition("/")
    return Expected(message, kind, namespace if slash else None, name)


def replay(case: Case) -> Report:
    """meshops validate on the case's files, together, under the dev profile."""
    docs = [doc for file in case.files for doc in documents.read(ANALYZERS / file)]
    return engine.validate(docs, PROFILE)


def reports(report: Report, expected: Expected) -> list[Finding]:
    """meshops's findings of a covering rule on the object Istio names."""
    rules = COVERED.get((expected.message, expected.kind), ())
    return [
        f
        for f in report.findings
        if f.rule in rules
        and f.obj.ref.kind == expected.kind
        and f.obj.ref.name == expected.name
        and (expected.namespace is None or (f.obj.ref.namespace or "default") == expected.namespace)
    ]


def covered(all_cases: list[Case]) -> Iterator[tuple[Case, Expected]]:
    """Every expected message whose class a meshops rule covers."""
    for case in all_cases:
        for expected in case.expected:
            if (expected.message, expected.kind) in COVERED and case.name not in OTHER_REFERENCES:
                yield case, expected


def errors(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.ERROR]


def main() -> None:
    """Print the numbers: covered messages reported, errors on clean cases."""
    all_cases = cases()
    replayed = {c.key: replay(c) for c in all_cases}
    pairs = list(covered(all_cases))
    found = [(c, e) for c, e in pairs if reports(replayed[c.key], e)]
    messages = sum(len(c.expected) for c in all_cases)
    by_class = sum(
        1 for c in all_cases for e in c.expected if any(e.message == m for m, _ in COVERED)
    )
    print(f"{len(all_cases)} cases, {messages} expected messages, {by_class} of a covered class")
    print(f"covered (class and object kind a rule checks): {len(pairs)}")
    print(f"reported on the same object: {len(found)} of {len(pairs)}")
    for case, expected in pairs:
        if (case, expected) not in found:
            print(f"  missed: {case.key}: {expected.message} {expected.origin}")
    clean = [c for c in all_cases if not c.expected]
    noisy = [(c, errors(replayed[c.key])) for c in clean if errors(replayed[c.key])]
    print(f"clean cases: {len(clean)}, with meshops errors: {len(noisy)}")
    for case, found_errors in noisy:
        for f in found_errors:
            print(f"  error: {case.key}: {f.text}")


if __name__ == "__main__":
    main()
