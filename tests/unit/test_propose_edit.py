"""propose's environment-file editor: every byte outside the edited lines stays as written."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from charts_py.config import environment, source
from charts_py.propose import edit

ENVIRONMENTS = sorted((Path(__file__).resolve().parents[2] / "environments").glob("*.yaml"))


def _nothing(path: source.FieldPath) -> dict[str, object]:
    return {}


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines removed and added between two texts."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda p: p.name)
def test_an_unedited_file_comes_back_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert edit.set_fields(text, [], _nothing) == text


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda p: p.name)
def test_an_edit_changes_only_its_own_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    after = edit.set_fields(
        text,
        [(("services", 1, "image"), "registry.example.com/shop/catalog:9.9.9"),
         (("services", 2, "versions", 0, "weight"), 70)],
        _nothing,
    )  # fmt: skip
    removed, added = _changed_lines(text, after)
    assert len(removed) == len(added) == 2
    assert added[0] == "    image: registry.example.com/shop/catalog:9.9.9"
    assert added[1] == re.sub(r"weight: [0-9]+", "weight: 70", removed[1])
    comments = [line for line in text.splitlines() if "#" in line]
    assert comments and all(c in after.splitlines() for c in comments)


def test_flow_mappings_and_quotes_are_kept() -> None:
    text = 'a:\n  - {name: v1, weight: 90}\n  - {name: v2, weight: 10, image: "r/x:1"}\n'
    after = edit.set_fields(
        text, [(("a", 0, "weight"), 50), (("a", 1, "weight"), 50), (("a", 1, "image"), "r/x:2")],
        _nothing,
    )  # fmt: skip
    assert after == 'a:\n  - {name: v1, weight: 50}\n  - {name: v2, weight: 50, image: "r/x:2"}\n'


def test_missing_mappings_are_created_block_at_the_top_flow_below() -> None:
    text = "# head\nservices:\n  - name: cart  # the cart\n    image: r/cart:1\n"
    seed = {("services", 0, "retries"): {"attempts": 2, "perTryTimeout": "3s"}}
    after = edit.set_fields(
        text,
        [(("policy", "mtlsMode"), "PERMISSIVE"), (("services", 0, "retries", "attempts"), 1)],
        lambda path: dict(seed.get(path, {})),
    )
    assert after == (
        "# head\nservices:\n  - name: cart  # the cart\n    image: r/cart:1\n"
        "    retries: {attempts: 1, perTryTimeout: 3s}\npolicy:\n  mtlsMode: PERMISSIVE\n"
    )


def test_values_keep_their_types_when_loaded() -> None:
    text = ENVIRONMENTS[-1].read_text(encoding="utf-8")  # staging.yaml, sorted last
    after = edit.set_fields(
        text, [(("services", 1, "timeout"), "7s"), (("policy", "tracingSampling"), 20)], _nothing
    )
    env = environment.load_text(after, "staging", "environments/staging.yaml")
    assert env.spec.services[1].timeout == "7s" and env.policy.tracing_sampling == 20


@pytest.mark.parametrize(
    ("path", "why"),
    [(("services", 99, "image"), "services[99]"), (("profile", "x"), "profile.x")],
)
def test_a_path_the_file_cannot_hold_is_refused(path: source.FieldPath, why: str) -> None:
    text = ENVIRONMENTS[0].read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=f"cannot set {re.escape(why)}"):
        edit.set_fields(text, [(path, 1)], _nothing)
