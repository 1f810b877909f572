"""Validate custom resources against the packaged CRD schemas, unknown fields included.

The API server prunes fields a structural schema does not declare, silently: a typo such as
`simpel:` in a DestinationRule would vanish on apply. So every object node that declares
`properties` (and does not preserve unknown fields) is closed with
`additionalProperties: false` before validating.

Parsing the packaged CRDs (2.4 MB of YAML) took 0.4 s of every synth, even with libyaml; the
same documents as JSON parse in under 0.02 s. So each parsed CRD is cached as JSON under
`$XDG_CACHE_HOME/meshops/crds/` (else `~/.cache/...`), named by the SHA-256 of its YAML:
an entry can only be replaced by a new file, never be stale. Where the cache cannot be
written (a read-only home), CRDs are parsed every time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
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
        crd = _parsed(entry)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _closed(version["schema"]["openAPIV3Schema"], top=True)
            out[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return out


def cache_dir() -> Path:
    """Where parsed CRDs are kept: `$XDG_CACHE_HOME/meshops/crds`, else `~/.cache/...`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "meshops" / "crds"


def _parsed(entry: Traversable) -> Any:
    """A packaged CRD file as data: from the cache when it has it, else parsed and cached."""
    text = entry.read_bytes()
    cached = cache_dir() / f"{entry.name}.{hashlib.sha256(text).hexdigest()}.json"
    try:
        return json.loads(cached.read_bytes())
    except (OSError, ValueError):  # not cached yet (or not readable as JSON): parse it
        pass
    crd = yamlio.load(text)
    with suppress(OSError):  # no writable cache: parsed again next time
        _write(cached, json.dumps(crd))
    return crd


def _write(path: Path, text: str) -> None:
    """`path` whole or not at all, even with synths writing it in parallel."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
