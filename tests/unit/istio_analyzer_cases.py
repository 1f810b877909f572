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

COVERED: dict[str, tuple[str, ...]] = {
    "ReferencedResourceNotFound": (
        "host-resolves",
        "subset-exists",
        "gateway-exists",
        "gateway-workload-exists",
        "selector-matches-workload",
        "authorization-namespaces",
        "gateway-credential",
    ),
    "VirtualServiceHostNotFoundInGateway": ("gateway-serves-host",),
    "ConflictingMeshGatewayVirtualServiceHosts": ("virtualservice-host-unique",),
    "VirtualServiceIneffectiveMatch": ("route-unreachable",),
    "VirtualServiceUnreachableRule": ("route-unreachable",),
    "ConflictingGateways": ("gateway-host-port",),
    "NamespaceMultipleInjectionLabels": ("namespace-injection",),
    "NoServerCertificateVerificationDestinationLevel": ("destination-tls-verify",),
    "NoServerCertificateVerificationPortLevel": ("destination-tls-verify",),
    "ServiceEntryAddressesRequired": ("service-entry-addresses",),
    "GatewayPortNotDefinedOnService": ("gateway-service-port",),
    "ConflictingSidecarWorkloadSelectors": ("selector-unique",),
    "ConflictingTelemetryWorkloadSelectors": ("selector-unique",),
    "MultipleSidecarsWithoutWorkloadSelectors": ("sidecar-unique",),
    "MultipleTelemetriesWithoutWorkloadSelectors": ("telemetry-unique",),
    "InvalidApplicationUID": ("proxy-uid",),
    "PortNameIsNotUnderNamingConvention": ("service-port-protocol",),
    "DestinationRuleSubsetNotSelectPods": ("subset-selects-pods",),
    "VirtualServiceDestinationPortSelectorRequired": ("destination-port",),
    "UnknownAnnotation": ("istio-annotation",),
    "IngressRouteRulesNotAffected": ("gateway-route-subsets",),
}
"""Istio's message classes that meshops rules check, and the rules that report them: every
class a rule's `istio` column (rules/catalog.py) names, counted whatever the object."""


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
    rules = COVERED.get(expected.message, ())
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
            if expected.message in COVERED:
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
    print(f"{len(all_cases)} cases, {messages} expected messages, {len(pairs)} covered")
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
