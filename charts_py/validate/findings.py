"""Typed results of a validation run: severities, findings, suppressions, the report."""

from __future__ import annotations

import enum
import re
from collections import Counter
from dataclasses import dataclass, field

from charts_py.objectref import ObjectRef

ISTIO_RULE = re.compile(r"^istio/IST\d{4}$")
"""Rule ids of istioctl analyze's messages (`istio/IST0101`): valid in suppressions too."""


def istio_rule(code: str) -> str:
    """The rule id under which an istioctl message code is reported."""
    return f"istio/{code}"


class Severity(enum.Enum):
    """How bad a finding is; only errors fail a run (exit 1, or stop a synth)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 2 for info: sorts the worst first."""
        return list(Severity).index(self)


@dataclass(frozen=True, order=True)
class Located:
    """Which object a finding is about and the file it was read from (sorts by file first)."""

    file: str
    ref: ObjectRef


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One rule violated by one object, at a JSON Pointer into that object."""

    rule: str
    severity: Severity
    obj: Located
    path: str
    message: str
    line: int | None = None

    @property
    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.obj.file, self.line or 0, self.path, self.rule, self.message)

    @property
    def text(self) -> str:
        """One line: `file:line: severity: Kind/ns/name /pointer: message [rule]`."""
        where = f"{self.obj.file}:{self.line}" if self.line else self.obj.file
        what = f"{self.obj.ref.identity} {self.path}".rstrip()
        return f"{where}: {self.severity.value}: {what}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Suppressed:
    """A finding silenced by the object's `meshops.dev/suppress` annotation, with its reason."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class Report:
    """Everything one validation run found, over the objects it checked."""

    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    objects: list[Located] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the run could or could not do (istioctl ran, or was not found)."""

    @property
    def summary(self) -> dict[str, int]:
        """Findings per severity, every severity present (the JSON contract's `summary`)."""
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts.get(s, 0) for s in Severity}

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def merged(self, other: Report) -> Report:
        """This report and `other` together, sorted by file, line and pointer."""
        return Report(
            findings=sorted([*self.findings, *other.findings], key=lambda f: f.sort_key),
            suppressed=[*self.suppressed, *other.suppressed],
            objects=sorted({*self.objects, *other.objects}),
            notes=[*self.notes, *other.notes],
        )
