"""An edit is offered only if the environment, rendered again for real, gives the live value
and leaves every other object as it was; the others are refused with the reason."""

from __future__ import annotations

from pathlib import Path

from charts_py import provenance
from charts_py.config import environment, source
from charts_py.drift.model import Change, Difference
from charts_py.objectref import ObjectRef
from charts_py.propose import effective, proposal, verify
from charts_py.propose.plan import Candidate

STAGING = Path(__file__).resolve().parents[2] / "environments" / "staging.yaml"
FILE = "environments/staging.yaml"


def _vs(name: str) -> ObjectRef:
    return ObjectRef("networking.istio.io/v1", "VirtualService", "shop", name)


def _candidate(name: str, ptr: str, live: object, field: str, value: object) -> Candidate:
    return Candidate(
        ref=_vs(name),
        diff=Difference(
            path=ptr, change=Change.CHANGED, desired=None, live=live, manager="kubectl-edit"
        ),
        origin=provenance.EnvField(FILE, field),
        file=FILE,
        field=source.field_path(field),
        current=None,
        value=value,
    )


def test_only_edits_that_reproduce_live_and_touch_nothing_else_are_offered() -> None:
    text = STAGING.read_text(encoding="utf-8")
    doc = effective.documents(environment.load_text(text, "staging", FILE))[FILE]
    target = verify.Target(
        texts={FILE: text},
        env="staging",
        display=FILE,
        render=proposal.renderer("staging-1", "dist"),
        seeds={FILE: effective.seed(doc)},
    )
    good = _candidate("catalog", "/spec/http/0/timeout", "7s", "services[1].timeout", "7s")
    everyone = _candidate("shipping", "/spec/http/0/timeout", "12s", "policy.timeout", "12s")
    invalid = _candidate(
        "reviews", "/spec/http/1/route/0/weight", 80, "services[2].versions[0].weight", 80
    )
    wrong = _candidate("checkout", "/spec/http/0/timeout", "25s", "services[5].timeout", "30s")
    done = verify.verify([good, everyone, invalid, wrong], target)
    assert done.offered == [good]
    reasons = {r.ref.name: r.reason for r in done.refused}
    assert "which is in sync" in reasons["shipping"]
    assert "weights must sum to 100, got 130" in reasons["reviews"]
    assert "services[5].timeout does not give the live value" in reasons["checkout"]
    assert list(done.texts) == [FILE] and "    timeout: 7s\n" in done.texts[FILE]
    assert "timeout: 30s" not in done.texts[FILE] and "timeout: 12s" not in done.texts[FILE]
