"""The image's pinned Python packages (scripts/image/requirements.txt) agree with pyproject.toml:
an exact pin for every dependency and for the build backend, each within its declared range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO / "scripts" / "image" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, (
                f"scripts/image/requirements.txt: {line!r} is not pinned (name==version)"
            )
            found[canonicalize_name(name)] = version
    return found


def test_every_dependency_and_the_build_backend_is_pinned_within_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = project["project"]["dependencies"] + project["build-system"]["requires"]
    pinned = pins()
    for text in wanted:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        assert version, f"{requirement.name} is not pinned in scripts/image/requirements.txt"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}: not {text}"
