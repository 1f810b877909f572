"""Shared fixtures: the sample environments, rendered once per session, and file builders."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import speed
from charts_py.config import environment
from charts_py.render import synth
from charts_py.render.manifest import Manifest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ENVIRONMENTS = REPO / "environments"


def sample(name: str) -> dict[str, Any]:
    """A deep copy of a sample environment file's data, to modify in a test."""
    data: dict[str, Any] = yaml.safe_load((SAMPLE_ENVIRONMENTS / f"{name}.yaml").read_text())
    return copy.deepcopy(data)


def write_envs(directory: Path, **envs: dict[str, Any]) -> Path:
    """Write environment files `<name>.yaml` into `directory` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in envs.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return directory


@pytest.fixture(params=["tricks", "plain"])
def speed_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test run twice: with meshops's speed tricks on (a forked worker, a thread), and
    with `MESHOPS_PLAIN=1` (charts_py/speed/)."""
    if request.param == "plain":
        monkeypatch.setenv(speed.SWITCH, "1")
    else:
        monkeypatch.delenv(speed.SWITCH, raising=False)
    return str(request.param)


@pytest.fixture(scope="session")
def rendered() -> list[Manifest]:
    """Every manifest of the sample environments (rendered once: cdk8s is slow to start)."""
    envs = list(environment.load_all(SAMPLE_ENVIRONMENTS).values())
    return synth.manifests(envs, envs)


def find(
    manifests: list[Manifest], prefix: str, kind: str, name: str, namespace: str | None = None
) -> dict[str, Any]:
    """The object of `kind`/`name` (in `namespace`, where names repeat across namespaces)
    under dist path `prefix` (e.g. `prod/prod-east`)."""
    hits = [
        m.obj
        for m in manifests
        if m.path.startswith(prefix + "/")
        and m.obj["kind"] == kind
        and m.obj["metadata"]["name"] == name
        and namespace in (None, m.obj["metadata"].get("namespace"))
    ]
    assert len(hits) == 1, f"expected one {kind}/{name} under {prefix}, found {len(hits)}"
    return hits[0]


def kinds_under(manifests: list[Manifest], prefix: str) -> dict[str, int]:
    """How many objects of each kind are under `prefix`."""
    counts: dict[str, int] = {}
    for m in manifests:
        if m.path.startswith(prefix + "/"):
            counts[m.obj["kind"]] = counts.get(m.obj["kind"], 0) + 1
    return counts
