"""The JSON Schema of environment files, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from charts_py.config.model import EnvironmentFile, Policy

SCHEMA_FILE = Path(__file__).with_name("environment.schema.json")


def schema() -> dict[str, Any]:
    """EnvironmentFile's schema, with `policy` typed as a partial Policy (every key optional)."""
    out = EnvironmentFile.model_json_schema(by_alias=True)
    policy = Policy.model_json_schema(by_alias=True)
    defs = policy.pop("$defs", {})
    policy.pop("required", None)
    policy["description"] = (
        "Overrides of the profile's defaults (see charts_py/config/profiles.py)."
    )
    out.setdefault("$defs", {}).update(defs)
    out["properties"]["policy"] = policy
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "meshops environment"
    return out


def text() -> str:
    """The schema file's exact content."""
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"
