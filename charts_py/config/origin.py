"""Which part of an environment supplied a value: a field of the file, or a default.

The path a value was read at is recorded by the traced view (config/traced.py), which also
applies the fallbacks (`model.FALLBACKS`); here, only whether the file wrote that path. The
policy and the mesh are the profile's (`profiles.PROFILES`, `profiles.MESH`) with the file's
`policy:` and `mesh:` deep-merged on top; anything else the file leaves out is a default of
the schema (`model.py`).
"""

from __future__ import annotations

from typing import Any

from charts_py import provenance
from charts_py.config import source


def resolve(
    src: source.Source,
    profile: str,
    path: source.FieldPath,
    override: source.FieldPath,
    override_file: str | None = None,
) -> provenance.Origin:
    """What the file wrote at model path `path` (such as `("services", 6, "timeout")` or
    `("policy", "mtlsMode")`), else the default that filled it in; `override` is the
    narrowest field that would replace it for this value alone, in `override_file` when that
    is not the environment file (a team's)."""
    if written(src.data, path):
        return provenance.EnvField(src.file, source.dotted(path))
    if path[0] == "policy":
        key = source.dotted(path[1:])
    elif path[0] == "mesh":
        key = "mesh." + source.dotted(path[1:])
    else:
        key = source.dotted(path, indices=False)
    return provenance.ProfileDefault(
        profile=profile, key=key, override=source.dotted(override), file=override_file
    )


def written(data: Any, path: source.FieldPath) -> bool:
    """Whether the file sets `path` to a value (an explicit null falls back like absence)."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return False
        elif not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return data is not None
