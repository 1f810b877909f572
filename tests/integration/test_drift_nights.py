"""A week of nightly drift runs on the real API server: findings with a life across nights,
a waiver that expires, one alert per new problem, and the fleet page over what the nights
left on the snapshot branch.

Each night is `meshops drift --snapshot` (the nightly job's sequence, in-process, its clock
set to 03:17 UTC of that day) against the local control plane and a real git repository,
delivering to a webhook receiver on 127.0.0.1 and to Debian's Pushgateway. Hand edits are
made the way people make them: `kubectl label` and `kubectl annotate`.
"""
# ruff: noqa: F811 (pytest fixtures imported from the unit tests and taken as arguments)

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, gitrepo
from charts_py.drift import run
from charts_py.report import fleet
from tests.integration.drift_env import Scenario
from tests.unit.test_drift_delivery import Hook, hook, no_proxy  # noqa: F401 (fixtures)
from tests.unit.test_drift_pushgateway import gateway, scraped  # noqa: F401 (fixture)

FIRST = date(2026, 12, 1)
UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


class Week:
    """The nights of one scenario: run one, read what it reported and what it sent."""

    def __init__(
        self,
        scenario: Scenario,
        hook: Hook,
        gateway: str,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.s, self.hook, self.gateway = scenario, hook, gateway
        self.tmp, self.monkeypatch = tmp_path, monkeypatch
        self.sent: dict[int, dict[str, Any] | None] = {}

    def night(self, day: int, kubeconfig: str | None = None) -> dict[str, Any]:
        """Run night `day` (1 = 2026-12-01); the JSON report. What the webhook received,
        if anything, is in `sent[day]`."""
        when = datetime.combine(FIRST + timedelta(days=day - 1), datetime.min.time(), UTC)
        stamp = (when + timedelta(hours=3, minutes=17)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.monkeypatch.setattr(run, "now", lambda: stamp)
        out = self.tmp / f"night-{day}.json"
        before = len(self.hook.requests)
        argv = self.s.cli_args(
            "--snapshot", "--format", "json", "--output", str(out),
            "--notify", self.hook.url, "--pushgateway", self.gateway,
            kubeconfig=kubeconfig,
        )  # fmt: skip
        cli.main(argv)
        bodies = [json.loads(body) for _, _, body in self.hook.requests[before:]]
        assert len(bodies) <= 1
        self.sent[day] = bodies[0] if bodies else None
        print(f"night {day} ({stamp}): {json.dumps(_message(self.sent[day]))}")
        return dict(json.loads(out.read_text()))

    def waive(self, kind: str, name: str, path: str, expires: date) -> None:
        """Commit a waiver to the environment file, as a reviewed change would."""
        waiver = {"kind": kind, "namespace": self.s.namespace, "name": name, "path": path,
                  "reason": "vendor hotfix, see INC-42", "owner": "team-shop",
                  "expires": expires.isoformat()}  # fmt: skip
        file = self.s.repo / "environments" / "staging.yaml"
        file.parent.mkdir(exist_ok=True)
        file.write_text(yaml.safe_dump({"drift": {"waivers": [waiver]}}))
        self.s.commit()


def _message(sent: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a webhook message a person acts on (for the log of the week)."""
    if sent is None:
        return None
    keep = ("alerts", "incomplete", "reason", "verdict")
    return {k: sent[k] for k in keep if k in sent}


def finding(report: dict[str, Any], kind: str, name: str, path: str) -> dict[str, Any] | None:
    for resource in report["resources"]:
        if (resource["kind"], resource["name"]) == (kind, name):
            for difference in resource["differences"]:
                if difference["path"] == path:
                    return dict(difference["finding"])
    return None


def alerted(sent: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    return [(a["kind"], a["name"], a["state"]) for a in (sent or {}).get("alerts", [])]


LABEL, NOTE = "/metadata/labels/hand-edited", "/metadata/annotations/note"


def test_a_week_of_nights_alerts_each_problem_once(
    scenario: Scenario,
    hook: Hook,
    gateway: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    week = Week(scenario, hook, gateway, tmp_path, monkeypatch)
    s = scenario

    # Night 1: edit A (a label on the Deployment): new, alerted.
    s.kubectl("label", "deployment", "cart-v1", "hand-edited=yes")
    first = week.night(1)
    a = finding(first, "Deployment", "cart-v1", LABEL)
    assert a is not None and (a["state"], a["runs"]) == ("new", 1)
    assert alerted(week.sent[1]) == [("Deployment", "cart-v1", "new")]
    assert week.sent[1] is not None and week.sent[1]["alerts"][0]["id"] == a["id"]

    # Night 2: A again, and a new edit B (an annotation on the Service).
    s.kubectl("annotate", "service", "cart", "note=temporary")
    second = week.night(2)
    assert finding(second, "Deployment", "cart-v1", LABEL) == {
        **a, "state": "persisting", "firstSeen": "2026-12-01T03:17:00Z", "runs": 2
    }  # fmt: skip
    b = finding(second, "Service", "cart", NOTE)
    assert b is not None and b["state"] == "new"
    assert alerted(week.sent[2]) == [("Service", "cart", "new")]  # A persists: not again
    metrics = scraped(gateway)
    by_state = {dict(labels)["state"]: v for (name, labels), v in metrics.items()
                if name == "meshops_drift_findings"}  # fmt: skip
    assert by_state == {"new": 1, "persisting": 1, "regressed": 0, "waived": 0, "resolved": 0}

    # Night 3: A waived until tomorrow, B reverted by hand.
    week.waive("Deployment", "cart-v1", "/metadata/labels", FIRST + timedelta(days=3))
    s.kubectl("annotate", "service", "cart", "note-")
    third = week.night(3)
    waived = finding(third, "Deployment", "cart-v1", LABEL)
    assert waived is not None and (waived["state"], waived["runs"]) == ("waived", 3)
    assert third["findings"] == {
        "new": 0, "persisting": 0, "regressed": 0, "waived": 1, "resolved": 1
    }  # fmt: skip
    assert [(r["kind"], r["name"], r["path"]) for r in third["resolved"]] == [
        ("Service", "cart", NOTE)
    ]
    assert week.sent[3] is None  # nothing new, the run complete: nothing sent

    # Night 4: the waiver expired; A is a finding again and alerts once, as expired.
    fourth = week.night(4)
    expired = finding(fourth, "Deployment", "cart-v1", LABEL)
    assert expired is not None
    assert (expired["state"], expired["waiverExpired"]) == ("persisting", "2026-12-04")
    assert alerted(week.sent[4]) == [("Deployment", "cart-v1", "waiver-expired")]

    # Night 5: B comes back: regressed, alerted; A persisting, not alerted again.
    s.kubectl("annotate", "service", "cart", "note=again")
    fifth = week.night(5)
    back = finding(fifth, "Service", "cart", NOTE)
    assert back is not None and (back["state"], back["firstSeen"]) == (
        "regressed", "2026-12-02T03:17:00Z"
    )  # fmt: skip
    assert alerted(week.sent[5]) == [("Service", "cart", "regressed")]

    # Night 6: the cluster cannot be reached: the run is incomplete, still alerts, and
    # resolves nothing it could not see.
    kubeconfig = tmp_path / "unreachable"
    kubeconfig.write_text(UNREACHABLE)
    sixth = week.night(6, kubeconfig=str(kubeconfig))
    assert sixth["complete"] is False and sixth["findings"]["resolved"] == 0
    sent = week.sent[6]
    assert sent is not None and sent["incomplete"] is True and sent["alerts"] == []
    assert sent["reason"].startswith("could not read the cluster: ")

    # Night 7: reachable again: both findings persist from before the outage, no message.
    seventh = week.night(7)
    assert finding(seventh, "Deployment", "cart-v1", LABEL)["state"] == "persisting"  # type: ignore[index]
    assert finding(seventh, "Service", "cart", NOTE)["runs"] == 3  # type: ignore[index]
    assert week.sent[7] is None

    # The fleet page reads what the week left on the snapshot branch.
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    [row] = fleet.read(gitrepo.open_repo(s.repo), "meshops/snapshots", "HEAD", now)
    assert (row.index.started_at, row.stale) == ("2026-12-07T03:17:00Z", False)
    assert row.by_state()["persisting"] == 2
    page = tmp_path / "fleet.html"
    argv = ["report", "--fleet", "--repo", str(s.repo), "--output", str(page)]
    assert cli.main(argv) == 0 and s.cluster in page.read_text()
