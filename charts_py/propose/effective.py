"""The environment as synth sees it, as one plain document per file in the file's shape (the
platform's, each team's): every service's block filled in from the policy where the file
leaves it out, the policy and mesh with the profile's defaults. It gives a proposed value its
form (`250m` or `0.25`) and a service block created by an edit its other fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from charts_py.config import source
from charts_py.config.environment import Environment
from charts_py.config.model import FALLBACKS


def documents(env: Environment) -> dict[str, dict[str, Any]]:
    """Every file of the environment, by the path it was loaded by (the platform's and each
    team's), as synth sees it: camelCase keys, defaults included, each service's blocks
    filled in from its namespace's defaults and the policy."""
    docs = {env.file: env.spec.model_dump(mode="json", by_alias=True)}
    docs[env.file]["policy"] = env.policy.model_dump(mode="json", by_alias=True)
    docs[env.file]["mesh"] = env.mesh.model_dump(mode="json", by_alias=True)
    for team in env.team_files:
        docs[team.raw.file] = team.spec.model_dump(mode="json", by_alias=True)
    for ns in env.namespaces:
        for i, svc in enumerate(ns.services):
            block = lookup(docs[ns.file], (*ns.at, i))
            settings = env.settings(svc)
            for name in FALLBACKS:
                block[to_camel(name)] = _plain(getattr(settings, name))
    return docs


def seed(doc: dict[str, Any]) -> Any:
    """What an edit of the file `doc` puts in a mapping it creates at `path`: for a
    service's block (which replaces the policy's whole) the effective fields, minus schema
    defaults; elsewhere (`policy:`, `mesh:`, deep-merged over the profile) nothing."""

    def fill(path: source.FieldPath) -> dict[str, Any]:
        if len(path) < 3 or path[-3] != "services" or not isinstance(path[-2], int):
            return {}
        found = lookup(doc, path)
        return dict(found) if isinstance(found, dict) else {}

    return fill


def lookup(doc: Any, path: source.FieldPath) -> Any:
    """The value at `path` of a plain document (None where it has none)."""
    for key in path:
        if isinstance(doc, dict) and isinstance(key, str):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _plain(value: Any) -> Any:
    """A model without the fields equal to the schema's defaults (the file need not say them)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return value
