"""The JSON Schema of environment files, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from charts_py.config.model import EnvironmentFile, Mesh, Policy, TeamFile

SCHEMA_FILE = Path(__file__).with_name("environment.schema.json")
TEAM_SCHEMA_FILE = Path(__file__).with_name("team.schema.json")


def schema() -> dict[str, Any]:
    """EnvironmentFile's schema, with `policy` and `mesh` typed as partial Policy and Mesh
    (every key optional: the profile supplies the rest)."""
    out = EnvironmentFile.model_json_schema(by_alias=True)
    for field, model in (("policy", Policy), ("mesh", Mesh)):
        out["properties"][field] = _partial(model, out.setdefault("$defs", {}))
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "meshops environment"
    return out


def _partial(model: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    part = model.model_json_schema(by_alias=True)
    defs.update(part.pop("$defs", {}))
    part.pop("required", None)
    part["description"] = "Overrides of the profile's defaults (see charts_py/config/profiles.py)."
    return part


def text() -> str:
    """The schema file's exact content."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def team_text() -> str:
    """The team file schema's exact content (`environments/<env>/<team>.yaml`)."""
    out = TeamFile.model_json_schema(by_alias=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "meshops team file"
    return json.dumps(out, indent=2, sort_keys=True) + "\n"
