"""Validate custom resources against the packaged CRD schemas, unknown fields included.

The API server prunes fields a structural schema does not declare, silently: a typo such as
`simpel:` in a DestinationRule would vanish on apply. So every object node that declares
`properties` (and does not preserve unknown fields) is closed with
`additionalProperties: false` before validating.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema

from charts_py import jsonpointer, yamlio

PRESERVE = "x-kubernetes-preserve-unknown-fields"


@functools.cache
def validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """A validator per (apiVersion, kind) of every packaged CRD version."""
    out: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for entry in (resources.files("charts_py") / "crds").iterdir():
        if not entry.name.endswith(".yaml"):
            continue
        crd = yamlio.load(entry.read_text(encoding="utf-8"))  # libyaml: large Argo CD CRDs
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _closed(version["schema"]["openAPIV3Schema"], top=True)
            out[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return out


def errors(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(JSON Pointer, message) for each schema violation; nothing for kinds without a CRD."""
    validator = validators().get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if validator is None:
        return
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        pointer = jsonpointer.pointer(*error.absolute_path)
        yield pointer or "/", error.message


def _closed(schema: dict[str, Any], top: bool = False) -> dict[str, Any]:
    """A copy of `schema` where declared objects reject undeclared fields (not at the root,
    whose apiVersion/kind/metadata CRD schemas usually leave out)."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: _closed(v) for k, v in out["properties"].items()}
        if not top and not out.get(PRESERVE) and "additionalProperties" not in out:
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _closed(out[key])
    # anyOf/oneOf branches only say which fields go together: left as they are.
    return out
