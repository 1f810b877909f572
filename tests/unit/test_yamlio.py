"""yamlio.load reads every document exactly as PyYAML's safe loader does (it only skips
PyYAML's generic constructor for plain maps, lists and strings)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from charts_py import yamlio

ROOT = Path(__file__).resolve().parents[2]

EDGES = [
    "a: on\nb: yes\nc: 0777\nd: 1_000\ne: 2024-01-01\nf: ~\ng: .inf\nh: 0x10\n",
    "a: '80'\nb: \"true\"\nc: |\n  x\n  y\nd:\ne: 1e3\nf: 1.0\ng: -0\nh: 12:30\ni: Null\n",
    "a: !!str 5\nb: !!binary aGVsbG8=\nc: !!float 1\n",
    "a: &x {k: [1, 2]}\nb: *x\n",
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}]\n",
    "1: int key\n2.5: float\nnull: n\ntrue: t\n2024-01-01: date\n",
    "dup: 1\ndup: 2\n",
    "- 1\n- [a, {b: c}]\n- {}\n- []\n",
    "&r [*r]\n",
    "plain",
    "",
    "# only a comment\n",
]
BAD = ["? [1]\n: x\n", "a: !custom 1\n", "a: !custom {b: 1}\n", "a: [\n", "a: b\n---\nc: d\n"]


def _safe(text: str) -> object:
    return yaml.load(text, Loader=yamlio.LOADER)


@pytest.mark.parametrize("text", EDGES)
def test_reads_like_pyyaml(text: str) -> None:
    got, want = yamlio.load(text), _safe(text)
    if text.startswith("&r"):  # a list inside itself: compare the shape
        assert isinstance(got, list) and got[0] is got
    else:
        assert got == want and type(got) is type(want)


@pytest.mark.parametrize("text", BAD)
def test_fails_like_pyyaml(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as want:
        _safe(text)
    with pytest.raises(yaml.YAMLError) as got:
        yamlio.load(text)
    assert type(got.value) is type(want.value) and str(got.value) == str(want.value)


def test_reads_every_committed_manifest_like_pyyaml() -> None:
    files = sorted((ROOT / "dist").rglob("*.yaml"))
    assert len(files) > 300
    for file in files:
        text = file.read_bytes()
        assert yamlio.load(text) == _safe(text), file


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSONISH)
def test_round_trips_what_pyyaml_dumps(value: object) -> None:
    text = yaml.dump(value, Dumper=yamlio.DUMPER)
    assert yamlio.load(text) == _safe(text)
