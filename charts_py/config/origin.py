"""Which part of an environment supplied a value: a field of the file, or a default.

It follows exactly the fallbacks `Environment.settings()` and `_load` apply: a service's own
field, else the policy's (`model.FALLBACKS`); the policy and the mesh are the profile's
(`profiles.PROFILES`, `profiles.MESH`) with the file's `policy:` and `mesh:` deep-merged on top;
anything else the file leaves out is a default of the schema (`model.py`).
"""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel

from charts_py import provenance
from charts_py.config import source
from charts_py.config.model import FALLBACKS

_FALLBACK_KEYS = frozenset(to_camel(name) for name in FALLBACKS)
"""The YAML keys of `FALLBACKS` (`outlierDetection`)."""


def resolve(src: source.Source, profile: str, path: source.FieldPath) -> provenance.Origin:
    """The origin of the effective value at model path `path` (such as
    `("services", 6, "timeout")`, `("policy", "mtlsMode")` or `("mesh", "trustDomain")`)."""
    fallback = path[0] == "services" and len(path) >= 3 and path[2] in _FALLBACK_KEYS
    if fallback and not _written(src.data, path[:3]):
        return _default(src, profile, ("policy", *path[2:]), override=path)
    return _default(src, profile, path, override=path)


def _default(
    src: source.Source, profile: str, path: source.FieldPath, override: source.FieldPath
) -> provenance.Origin:
    """What the file wrote at `path`, else the default that filled it in."""
    if _written(src.data, path):
        return provenance.EnvField(src.file, source.dotted(path))
    if path[0] == "policy":
        key = source.dotted(path[1:])
    elif path[0] == "mesh":
        key = "mesh." + source.dotted(path[1:])
    else:
        key = source.dotted(path, indices=False)
    return provenance.ProfileDefault(profile, key, source.dotted(override))


def _written(data: Any, path: source.FieldPath) -> bool:
    """Whether the file sets `path` to a value (an explicit null falls back like absence)."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False
        elif not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return data is not None
