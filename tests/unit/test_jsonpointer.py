"""One JSON Pointer codec (RFC 6901) for drift, validate and their reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charts_py import cli, jsonpointer
from charts_py.drift import policy
from charts_py.drift.model import Change, Difference, Severity
from tests.conftest import sample, write_envs

# Keys drawn to hit the escapes: `~`, `/` and the escape sequences themselves, often.
KEYS = st.text(alphabet=st.sampled_from(["~", "/", "0", "1", "a", "é", "-", " "]), max_size=8)


@given(st.lists(KEYS, max_size=6))
def test_pointer_round_trip(keys: list[str]) -> None:
    assert jsonpointer.tokens(jsonpointer.pointer(*keys)) == keys


@given(KEYS)
def test_token_round_trip(key: str) -> None:
    escaped = jsonpointer.escape(key)
    assert "/" not in escaped
    assert jsonpointer.unescape(escaped) == key


def test_rfc6901_examples() -> None:
    """Section 5 of RFC 6901: `/a~1b` names key `a/b`, `/m~0n` names `m~n`, `~01` is `~1`."""
    assert jsonpointer.tokens("/a~1b") == ["a/b"]
    assert jsonpointer.tokens("/m~0n") == ["m~n"]
    assert jsonpointer.tokens("/~01") == ["~1"]
    assert jsonpointer.tokens("/") == [""]
    assert jsonpointer.tokens("") == []
    assert jsonpointer.pointer("spec", "http", 0) == "/spec/http/0"


@pytest.mark.parametrize("bad", ["spec", "/a~2", "/a~", "/~~01"])
def test_malformed_pointers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="JSON Pointer"):
        jsonpointer.tokens(bad)


def test_severity_paths_escape_keys() -> None:
    """A changed annotation whose key holds `/` is reported at an escaped pointer."""
    wave = "argocd.argoproj.io/sync-wave"
    diff = Difference(
        path="/metadata/annotations", change=Change.CHANGED, desired={wave: "5"}, live={wave: "10"}
    )
    rules = (
        policy.SeverityRule(
            "*", "/metadata/annotations/argocd.argoproj.io~1sync-wave", Severity.CRITICAL
        ),
    )
    assert policy.Policy(severity=rules).change_severity("VirtualService", diff) is (
        Severity.CRITICAL
    )


def test_a_malformed_ignore_pointer_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ignore rule whose path can never match a reported pointer is refused, exit 2."""
    data = sample("dev")
    data["drift"] = {"ignore": [{"kind": "ConfigMap", "path": "/data/a~b"}]}
    envs = write_envs(tmp_path / "envs", dev=data)
    assert cli.main(["cost", "--environments", str(envs), "--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "dev.yaml:" in err and "drift.ignore[0].path: JSON Pointer '/data/a~b'" in err
