"""Rendering hand-built drift Reports: the JSON contract, Markdown, JUnit XML and the terminal."""

from __future__ import annotations

import dataclasses
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from rich.console import Console

from charts_py.drift import formats, html, model
from charts_py.drift.model import (
    Change,
    Difference,
    GitSource,
    ObjectRef,
    Report,
    Result,
    Severity,
    Status,
)
from charts_py.provenance import EnvField, Generated, ProfileDefault

GIT = GitSource("HEAD", "0123456789abcdef0123456789abcdef01234567", "dist/prod/prod-east")
TIME = "2025-06-01T02:03:04Z"
PEER_AUTH = ObjectRef("security.istio.io/v1", "PeerAuthentication", "istio-system", "default")
REVIEWS = ObjectRef("apps/v1", "Deployment", "bookinfo", "reviews-v1")
RATINGS = ObjectRef("v1", "Service", "bookinfo", "ratings")
STRAY = ObjectRef("v1", "ConfigMap", "bookinfo", "stray-config")
ACCOUNT = ObjectRef("v1", "ServiceAccount", "bookinfo", "in-sync-account")
NAMESPACE = ObjectRef("v1", "Namespace", "", "bookinfo")
POLICY = ObjectRef("security.istio.io/v1", "AuthorizationPolicy", "bookinfo", "deny-all")

MTLS_SOURCE = ProfileDefault(profile="prod", key="mtlsMode", override="policy.mtlsMode")
MTLS = Difference(
    path="/spec/mtls/mode",
    change=Change.CHANGED,
    desired="STRICT",
    live="PERMISSIVE",
    manager="kubectl-edit",
    operation="Update",
    time=TIME,
    severity=Severity.CRITICAL,
    source=MTLS_SOURCE,
)
DEBUG_ENV = Difference(
    path="/spec/template/spec/containers/0/env/1",
    change=Change.ADDED,
    desired=None,
    live={"name": "DEBUG", "value": "1"},
    manager="kubectl-patch",
    operation="Update",
    time=TIME,
    severity=Severity.MEDIUM,
    source=Generated("MeshService construct"),
)
NOTE_SOURCE = EnvField("environments/prod.yaml", "services[6].note", line=52)
LONG = Difference(
    path="/metadata/annotations/note",
    change=Change.CHANGED,
    desired="short",
    live="x|" * 100,
    manager="dashboard",
    operation="Apply",
    time=TIME,
    source=NOTE_SOURCE,
)


def report(*results: Result, errors: tuple[str, ...] = ()) -> Report:
    return Report(
        env="prod",
        cluster="prod-east",
        git=GIT,
        started_at=TIME,
        finished_at="2025-06-01T02:03:46Z",
        results=results,
        errors=errors,
    )


def drifted() -> Report:
    return report(
        Result(ACCOUNT, Status.IN_SYNC, confirmed_by=model.NOT_NEEDED),
        Result(
            REVIEWS,
            Status.MODIFIED,
            (DEBUG_ENV, LONG),
            ignored=3,
            severity=Severity.MEDIUM,
            confirmed_by=model.FORBIDDEN,
        ),
        Result(
            PEER_AUTH,
            Status.MODIFIED,
            (MTLS,),
            severity=Severity.CRITICAL,
            confirmed_by=model.DRY_RUN,
        ),
        Result(RATINGS, Status.MISSING, severity=Severity.HIGH),
        Result(STRAY, Status.EXTRA, severity=Severity.LOW),
        Result(NAMESPACE, Status.IN_SYNC),
    )


def incomplete() -> Report:
    unknown = Result(POLICY, Status.UNKNOWN, error="forbidden: list authorizationpolicies")
    return dataclasses.replace(drifted(), results=(*drifted().results, unknown))


def clean() -> Report:
    return report(Result(ACCOUNT, Status.IN_SYNC), Result(NAMESPACE, Status.IN_SYNC))


# --- JSON and exit codes ----------------------------------------------------------------------

TOP = {
    "schemaVersion",
    "env",
    "cluster",
    "git",
    "startedAt",
    "finishedAt",
    "complete",
    "summary",
    "resources",
}
SUMMARY = {"objects", "in-sync", "modified", "missing", "extra", "unknown"}
RESOURCE = {"apiVersion", "kind", "namespace", "name", "status", "severity", "differences", "error"}
DIFFERENCE = {"path", "change", "desired", "live", "manager", "operation", "time"}


def test_json_has_the_contract_shape() -> None:
    text = formats.json_text(drifted())
    data = json.loads(text)
    assert text.endswith("}\n") and text.startswith('{\n  "schemaVersion": 3,')
    # Every version-1 key, plus these additive ones (readers of version 1 ignore them).
    assert set(data) == TOP | {"errors", "confirmedBy", "notes"}
    assert set(data["summary"]) == SUMMARY | {"ignored"}
    assert all(set(r) == RESOURCE | {"ignored", "confirmedBy"} for r in data["resources"])
    differences = [d for r in data["resources"] for d in r["differences"]]
    assert len(differences) == 3
    assert all(set(d) == DIFFERENCE | {"severity", "source"} for d in differences)
    assert data["git"] == {"ref": "HEAD", "commit": GIT.commit, "path": "dist/prod/prod-east"}
    assert (data["env"], data["cluster"], data["complete"]) == ("prod", "prod-east", True)
    assert data["summary"] == {
        "objects": 6,
        "in-sync": 2,
        "modified": 2,
        "missing": 1,
        "extra": 1,
        "unknown": 0,
        "ignored": 3,
    }


def test_json_lists_every_object_with_typed_differences() -> None:
    resources = json.loads(formats.json_text(drifted()))["resources"]
    assert len(resources) == 6  # in-sync ones included
    peer = next(r for r in resources if r["kind"] == "PeerAuthentication")
    assert peer["status"] == "modified" and peer["severity"] == "critical" and peer["error"] is None
    assert {k: peer["differences"][0][k] for k in DIFFERENCE} == {
        "path": "/spec/mtls/mode",
        "change": "changed",
        "desired": "STRICT",
        "live": "PERMISSIVE",
        "manager": "kubectl-edit",
        "operation": "Update",
        "time": TIME,
    }
    account = next(r for r in resources if r["name"] == "in-sync-account")
    assert account["severity"] is None and account["differences"] == []


def test_json_names_the_source_of_each_difference() -> None:
    resources = json.loads(formats.json_text(drifted()))["resources"]
    sources = {d["path"]: d["source"] for r in resources for d in r["differences"]}
    assert sources == {
        "/spec/mtls/mode": {"profile": "prod", "key": "mtlsMode", "override": "policy.mtlsMode"},
        "/spec/template/spec/containers/0/env/1": {"generated": "MeshService construct"},
        "/metadata/annotations/note": {
            "file": "environments/prod.yaml",
            "line": 52,
            "field": "services[6].note",
        },
    }


def test_every_format_names_the_source_of_each_difference() -> None:
    rep = drifted()
    line = "environments/prod.yaml:52 services[6].note"
    profile = "profile prod default mtlsMode (override: policy.mtlsMode)"
    md = formats.markdown(rep)
    assert f"| {line} |" in md and f"| {profile} |" in md
    assert "| generated: MeshService construct |" in md
    page = html.page(rep)
    assert line in page and profile in page
    assert f"[source: {profile}]" in formats.junit(rep)
    assert f"[source: {profile}]" in render_text(rep, details=True)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (clean, 0),
        (drifted, 1),
        (incomplete, 2),
        (lambda: report(Result(POLICY, Status.UNKNOWN, error="timeout")), 2),
        (lambda: report(Result(ACCOUNT, Status.IN_SYNC), errors=("Gateway: forbidden",)), 2),
    ],
    ids=["in-sync", "drift", "drift-and-unknown", "only-unknown", "run-error"],
)
def test_exit_codes_and_incomplete_is_never_clean(build: Callable[[], Report], code: int) -> None:
    built = build()
    assert built.exit_code() == code
    assert json.loads(formats.json_text(built))["complete"] is (code != 2)


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_of_a_clean_run_says_in_sync_and_lists_no_object() -> None:
    md = formats.markdown(clean())
    assert md.startswith("# Drift report: prod / prod-east\n\n**In sync: all 2 objects match git**")
    assert "in-sync-account" not in md and "###" not in md
    assert "| in-sync | 2 |" in md


def test_markdown_lists_divergent_objects_by_severity() -> None:
    md = formats.markdown(drifted())
    assert "**Drift found: 4 of 6 objects differ from git**" in md
    assert "- Git: `HEAD` at `0123456789ab`, path `dist/prod/prod-east`" in md
    assert f"- Checked: {TIME} → 2025-06-01T02:03:46Z (42s)" in md
    assert "Differences ignored by rules: 3" in md
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["## Summary", "## Critical", "## High", "## Medium", "## Low"]
    assert "### Modified: `PeerAuthentication` istio-system/default" in md
    assert (
        '| `/spec/mtls/mode` | changed | `"STRICT"` | `"PERMISSIVE"` | kubectl-edit | Update | '
        f"{TIME} |"
    ) in md
    assert '| added | (absent) | `{"name":"DEBUG","value":"1"}` | kubectl-patch |' in md
    assert "### Missing: `Service` bookinfo/ratings\n\nIn git, missing from the cluster." in md
    assert "_3 differences ignored by rules._" in md
    assert "in-sync-account" not in md and "Namespace" not in md


def test_markdown_values_are_compact_truncated_and_table_safe() -> None:
    row = next(line for line in formats.markdown(drifted()).splitlines() if "/note" in line)
    live = row.split(" | ")[3]
    assert live.startswith('`"x\\|x\\|') and live.endswith("…`")
    assert len(live.replace("\\|", "|").strip("`")) == formats.VALUE_WIDTH
    assert row.count(" | ") == 7  # eight cells: escaped pipes do not split the row


def test_markdown_of_an_incomplete_run_says_incomplete_and_why() -> None:
    md = formats.markdown(incomplete())
    assert "**INCOMPLETE: could not check 1 of 7 objects; drift found in 4 objects**" in md
    assert "## Could not check\n\n- `AuthorizationPolicy` bookinfo/deny-all: forbidden: list" in md
    run_error = formats.markdown(report(Result(ACCOUNT, Status.IN_SYNC), errors=("Gateway: x",)))
    assert "**INCOMPLETE: could not check 1 run error**" in run_error
    assert "## Run errors\n\n- Gateway: x" in run_error


# --- JUnit ------------------------------------------------------------------------------------


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode())


def test_junit_has_a_testcase_per_object_and_failures_for_drift() -> None:
    xml = formats.junit(incomplete())
    assert xml == formats.junit(incomplete())  # deterministic
    suites = parse(xml)
    (suite,) = suites.findall("testsuite")
    assert suite.get("name") == "meshops drift prod/prod-east"
    cases = suite.findall("testcase")
    assert len(cases) == 7
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "4", "1")
    assert len(suite.findall("testcase/failure")) == 4 and len(suite.findall("testcase/error")) == 1
    peer = next(c for c in cases if c.get("classname") == "prod.prod-east.PeerAuthentication")
    assert peer.get("name") == "istio-system/default"
    failure = peer.find("failure")
    assert failure is not None and failure.get("type") == "modified"
    assert failure.get("message") == "modified (critical): 1 difference"
    assert failure.text == (
        f'/spec/mtls/mode: changed "STRICT" → "PERMISSIVE" (kubectl-edit, Update, {TIME})'
        " [source: profile prod default mtlsMode (override: policy.mtlsMode)]"
    )
    error = next(c for c in cases if c.get("name") == "bookinfo/deny-all").find("error")
    assert error is not None and error.get("message") == "forbidden: list authorizationpolicies"
    stray = next(c for c in cases if c.get("name") == "bookinfo/stray-config").find("failure")
    assert stray is not None and stray.get("type") == "extra"
    assert stray.get("message") == "extra (low): In the cluster with our labels, not in git."
    passing = next(c for c in cases if c.get("name") == "bookinfo/in-sync-account")
    assert [c.tag for c in passing] == ["properties"]  # no failure or error, just confirmedBy
    assert (
        next(c for c in cases if c.get("classname") == "prod.prod-east.Namespace").get("name")
        == "bookinfo"
    )


def test_junit_reports_run_errors_as_an_erroring_testcase() -> None:
    suite = parse(formats.junit(report(Result(ACCOUNT, Status.IN_SYNC), errors=("boom\x01",))))
    cases = suite.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["bookinfo/in-sync-account", "run"]
    error = cases[1].find("error")
    assert error is not None and error.text == "boom\ufffd"  # control characters replaced


def test_junit_of_a_clean_run_passes() -> None:
    suite = parse(formats.junit(clean())).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")


# --- terminal ---------------------------------------------------------------------------------


def render_text(built: Report, *, details: bool) -> str:
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    formats.text(built, console, details=details)
    return console.export_text()


def test_text_tables_objects_that_are_not_in_sync() -> None:
    out = render_text(incomplete(), details=False)
    for name in (
        "istio-system/default",
        "bookinfo/reviews-v1",
        "bookinfo/ratings",
        "bookinfo/stray-config",
        "bookinfo/deny-all",
    ):
        assert name in out
    assert "in-sync-account" not in out and "/spec/mtls/mode" not in out
    row = next(line for line in out.splitlines() if "reviews-v1" in line)
    assert "modified" in row and "medium" in row and "kubectl-patch" in row
    assert out.index("istio-system/default") < out.index("bookinfo/reviews-v1")  # critical first
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith(
            "prod/prod-east: INCOMPLETE: could not check 1 of 7 objects; drift found in 4 objects"
        )
    )


def test_text_details_show_each_difference() -> None:
    out = render_text(incomplete(), details=True)
    assert '  /spec/mtls/mode: changed "STRICT" → "PERMISSIVE" (kubectl-edit, Update,' in out
    assert "  /spec/template/spec/containers/0/env/1: added (absent) → " in out
    assert "  error: forbidden: list authorizationpolicies" in out


def test_text_of_a_clean_run_is_how_it_was_confirmed_and_one_summary_line() -> None:
    out = render_text(clean(), details=True)
    assert out.strip() == (
        "Verdicts confirmed by server-dry-run: 0; 0 local\n"
        "prod/prod-east: In sync: all 2 objects match git (2 in-sync, 0 modified, 0 missing, "
        "0 extra, 0 unknown; 0 differences ignored)"
    )


def test_values_show_absence_and_stay_short() -> None:
    removed = Difference(path="/spec/x", change=Change.REMOVED, desired={"a": [1, 2]}, live=None)
    assert formats.value(removed, "desired") == '{"a":[1,2]}'
    assert formats.value(removed, "live") == "(absent)"
    assert (
        formats.value(
            Difference(path="/spec/y", change=Change.CHANGED, desired=None, live=1), "desired"
        )
        == "null"
    )
    assert len(formats.value(LONG, "live")) == formats.VALUE_WIDTH


def test_every_format_says_how_each_verdict_was_confirmed() -> None:
    rep = drifted()
    data = json.loads(formats.json_text(rep))
    assert data["confirmedBy"] == {
        "server-dry-run": 1,
        "local": 2,
        "localReasons": {"forbidden": 1, "not needed": 1},
    }
    by_name = {r["name"]: r["confirmedBy"] for r in data["resources"]}
    assert by_name["default"] == {"method": "server-dry-run", "reason": None}
    assert by_name["reviews-v1"] == {"method": "local", "reason": "forbidden"}
    assert by_name["ratings"] is None  # missing: nothing was compared
    line = "confirmed by server-dry-run: 1; 2 local (1 forbidden, 1 not needed)"
    md = formats.markdown(rep)
    assert line in md and "Confirmed by: local (forbidden)" in md
    page = html.page(rep)
    assert line in page and "Confirmed by: local (forbidden)" in page
    suite = ET.fromstring(formats.junit(rep)).find("testsuite")
    assert suite is not None
    (props,) = suite.findall("properties")  # the suite's own, not its test cases'
    assert [(p.get("name"), p.get("value")) for p in props] == [("confirmedBy", line)]
    case = next(c for c in suite.iter("testcase") if c.get("name") == "bookinfo/reviews-v1")
    (prop,) = case.iter("property")
    assert prop.get("value") == "local (forbidden)"
    out = io.StringIO()
    formats.text(rep, Console(file=out, width=300), details=True)
    assert line in out.getvalue() and "confirmed by: local (forbidden)" in out.getvalue()


def test_notes_are_in_every_format() -> None:
    note = "extra objects outside the managed namespaces not searched: ConfigMap"
    rep = dataclasses.replace(drifted(), notes=(note,))
    assert json.loads(formats.json_text(rep))["notes"] == [note]
    assert note in formats.markdown(rep) and note in html.page(rep)
    assert note in formats.junit(rep) and note in render_text(rep, details=False)
