"""The environment as synth sees it, as one plain document in the file's shape: every
service's block filled in from the policy where the file leaves it out, the policy and mesh
with the profile's defaults. It gives a proposed value its form (`250m` or `0.25`) and a
service block created by an edit its other fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from charts_py.config import source
from charts_py.config.environment import Environment
from charts_py.config.model import FALLBACKS


def document(env: Environment) -> dict[str, Any]:
    """The effective environment, camelCase keys, defaults included."""
    doc = env.spec.model_dump(mode="json", by_alias=True)
    doc["policy"] = env.policy.model_dump(mode="json", by_alias=True)
    doc["mesh"] = env.mesh.model_dump(mode="json", by_alias=True)
    for i, svc in enumerate(env.spec.services):
        settings = env.settings(svc)
        for name in FALLBACKS:
            doc["services"][i][to_camel(name)] = _plain(getattr(settings, name))
    return doc


def seed(doc: dict[str, Any]) -> Any:
    """What an edit puts in a mapping it creates at `path`: for a service's block (which
    replaces the policy's whole) the effective fields, minus schema defaults; elsewhere
    (`policy:`, `mesh:`, deep-merged over the profile) nothing."""

    def fill(path: source.FieldPath) -> dict[str, Any]:
        if path[:1] != ("services",) or len(path) != 3:
            return {}
        found = doc["services"][path[1]].get(str(path[2]))
        return dict(found) if isinstance(found, dict) else {}

    return fill


def _plain(value: Any) -> Any:
    """A model without the fields equal to the schema's defaults (the file need not say them)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return value
