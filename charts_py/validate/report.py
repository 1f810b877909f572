"""Write a validation Report as text, JSON (the DESIGN.md contract), SARIF 2.1.0 or JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from charts_py import __version__
from charts_py.validate.findings import ISTIO_RULE, Finding, Located, Report, Severity
from charts_py.validate.rules.catalog import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, fmt: str) -> str:
    """The report in format `fmt` (one of format_names.VALIDATE)."""
    writers: dict[str, Callable[[Report], str]] = {
        "text": text,
        "json": to_json,
        "sarif": sarif,
        "junit": junit,
    }
    return writers[fmt](report)


def text(report: Report) -> str:
    """One line per finding and per suppression, then a summary line."""
    lines = [f.text for f in report.findings]
    lines += [f"{s.finding.text} (suppressed: {s.reason})" for s in report.suppressed]
    lines += [f"note: {note}" for note in report.notes]
    counts = report.summary
    lines.append(
        f"{len(report.objects)} objects: {counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['info']} info, {len(report.suppressed)} suppressed"
    )
    return "\n".join(lines) + "\n"


def finding_json(finding: Finding) -> dict[str, Any]:
    """The contract keys of a finding, plus `file` and `line` (where it was read)."""
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        **finding.obj.ref.to_json(),
        "path": finding.path,
        "message": finding.message,
        "file": finding.obj.file,
        "line": finding.line,
    }


def to_json(report: Report) -> str:
    """`{"findings": [...], "summary": {...}}` per DESIGN.md, plus the suppressions."""
    body = {
        "findings": [finding_json(f) for f in report.findings],
        "summary": report.summary,
        "suppressed": [{**finding_json(s.finding), "reason": s.reason} for s in report.suppressed],
        "notes": report.notes,
    }
    return json.dumps(body, indent=2) + "\n"


def sarif(report: Report) -> str:
    """SARIF 2.1.0: one rule descriptor per rule id (istioctl's codes too), results located in
    their files, the run's notes as tool notifications."""
    descriptors = [
        {"id": rule.id, "shortDescription": {"text": rule.title}, "help": {"text": rule.fix}}
        for rule in RULES
    ]
    descriptors += [_istio_descriptor(rule) for rule in _istio_rules(report)]
    index = {str(d["id"]): i for i, d in enumerate(descriptors)}
    results = [_sarif_result(f, index) for f in report.findings]
    for waived in report.suppressed:
        result = _sarif_result(waived.finding, index)
        result["suppressions"] = [{"kind": "inSource", "justification": waived.reason}]
        results.append(result)
    driver = {"name": "meshops", "version": __version__, "rules": descriptors}
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if report.notes:
        notes = [{"message": {"text": n}, "level": "note"} for n in report.notes]
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notes}]
    body = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(body, indent=2) + "\n"


def _istio_rules(report: Report) -> list[str]:
    found = [f.rule for f in report.findings] + [s.finding.rule for s in report.suppressed]
    return sorted({rule for rule in found if ISTIO_RULE.match(rule)})


def _istio_descriptor(rule: str) -> dict[str, Any]:
    code = rule.partition("/")[2]
    return {
        "id": rule,
        "shortDescription": {"text": f"Istio analyzer message {code} (istioctl analyze)"},
        "helpUri": f"https://istio.io/latest/docs/reference/config/analysis/{code.lower()}/",
    }


def _sarif_result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": finding.obj.file}}
    if finding.line:
        location["region"] = {"startLine": finding.line}
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.obj.ref.identity} {finding.path}: {finding.message}"},
        "locations": [
            {
                "physicalLocation": location,
                "logicalLocations": [
                    {"fullyQualifiedName": f"{finding.obj.ref.identity}{finding.path}"}
                ],
            }
        ],
    }


def junit(report: Report) -> str:
    """JUnit XML: one testcase per object; its errors are the failure, the rest its output."""
    by_object: dict[Located, list[Finding]] = {obj: [] for obj in report.objects}
    for finding in report.findings:
        by_object.setdefault(finding.obj, []).append(finding)
    failed = sum(1 for fs in by_object.values() if any(f.severity is Severity.ERROR for f in fs))
    suites = ET.Element(
        "testsuites", name="meshops validate", tests=str(len(by_object)), failures=str(failed)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="meshops validate",
        tests=str(len(by_object)),
        failures=str(failed),
    )
    if report.notes:
        properties = ET.SubElement(suite, "properties")
        for note in report.notes:
            ET.SubElement(properties, "property", name="note", value=note)
    for obj, found in by_object.items():
        name = obj.ref.identity or obj.file
        case = ET.SubElement(suite, "testcase", classname=obj.file, name=name)
        errors = [f for f in found if f.severity is Severity.ERROR]
        if errors:
            failure = ET.SubElement(case, "failure", message=errors[0].message, type=errors[0].rule)
            failure.text = "\n".join(f.text for f in errors)
        others = [f for f in found if f.severity is not Severity.ERROR]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(f.text for f in others)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
