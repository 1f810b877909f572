"""Validate custom resources against the packaged CRD schemas, unknown fields included.

Every version the API server serves has its schema (Istio serves v1, v1beta1 and v1alpha3
with one schema; Gateway API's alpha versions only in its experimental channel), so an
object written at any served version is checked (scripts/fetch_crds.py).

The API server prunes fields a structural schema does not declare, silently: a typo such as
`simpel:` in a DestinationRule would vanish on apply. So every object node that declares
`properties` (and does not preserve unknown fields) is closed with
`additionalProperties: false` before validating.

Parsing the packaged CRDs (2.4 MB of YAML then) took 0.4 s of every synth, even with libyaml; the
same documents as JSON parse in under 0.02 s. So each parsed CRD is cached as JSON under
`$XDG_CACHE_HOME/meshops/crds/` (else `~/.cache/...`), named by the SHA-256 of its YAML:
an entry can only be replaced by a new file, never be stale. Where the cache cannot be
written (a read-only home), CRDs are parsed every time. Only the files of a group an object
uses are read, and a validator is built for a version only when an object uses it.
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
GATEWAY_API = "gateway.networking.k8s.io"
CHANNELS = ("standard", "experimental")
"""Gateway API's release channels; experimental serves more fields and the alpha versions."""
_VALIDATED_CHANNEL = "experimental"
"""Gateway API objects are checked against the experimental channel, a superset of the
standard one: what either channel's API server accepts passes; a field neither declares
is an error."""


def _root() -> Traversable:
    return resources.files("charts_py") / "crds"


def _files(group: str, channel: str = _VALIDATED_CHANNEL) -> list[Traversable]:
    """The packaged CRD files of `group` (named `<plural>.<group>.yaml`)."""
    folder = _root() / "gateway-api" / channel if group == GATEWAY_API else _root()
    suffix = f".{group}.yaml"
    return sorted(
        (
            e
            for e in folder.iterdir()
            if e.name.endswith(suffix) and "." not in e.name[: -len(suffix)]
        ),
        key=lambda e: e.name,
    )


@functools.cache
def served(group: str, channel: str = _VALIDATED_CHANNEL) -> dict[tuple[str, str], Any]:
    """The OpenAPI schema per (apiVersion, kind) that the packaged CRDs of `group` serve.
    Only the files of one group are parsed: synth checks a handful of groups."""
    out: dict[tuple[str, str], Any] = {}
    for entry in _files(group, channel):
        crd = _parsed(entry)
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            out[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return out


@functools.cache
def plural(api_version: str, kind: str) -> str | None:
    """The resource name (`envoyfilters`) of a kind with a packaged CRD, else None."""
    group = api_version.rpartition("/")[0]
    for entry in _files(group) if group else []:
        names = _parsed(entry)["spec"]["names"]
        if names["kind"] == kind:
            return str(names["plural"])
    return None


@functools.cache
def groups() -> frozenset[str]:
    """Every API group with packaged CRDs (the package's files: listed once a process)."""
    names = [e.name for e in _root().iterdir() if e.name.endswith(".yaml")]
    return frozenset({*(n.removesuffix(".yaml").split(".", 1)[1] for n in names), GATEWAY_API})


@functools.cache
def validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The validator of one served (apiVersion, kind) of a packaged CRD, else None."""
    group = api_version.rpartition("/")[0]
    schema = served(group).get((api_version, kind)) if group else None
    if schema is None:
        return None
    return jsonschema.Draft7Validator(_closed(schema, top=True))


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
    check = validator(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if check is None:
        return
    for error in sorted(check.iter_errors(obj), key=lambda e: list(e.absolute_path)):
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


def _alpha(api_version: str) -> bool:
    return "alpha" in api_version.rpartition("/")[2]


def stable_versions(api_version: str, kind: str) -> list[str]:
    """The non-alpha apiVersions a packaged CRD serves `kind` at, newest first (v1 before
    v1beta1), in the channel every cluster has (Gateway API's standard)."""
    group = api_version.rpartition("/")[0]
    channel = "standard" if group == GATEWAY_API else _VALIDATED_CHANNEL
    found = [av for av, k in served(group, channel) if k == kind and not _alpha(av)]
    return sorted(found, key=lambda av: ("beta" in av, av))


def alias_of(api_version: str, kind: str) -> str | None:
    """The stable apiVersion an alpha one is merely another name for: served with the very
    same schema, in every channel (Istio's networking v1alpha3 is its v1), else None."""
    group = api_version.rpartition("/")[0]
    standard = "standard" if group == GATEWAY_API else _VALIDATED_CHANNEL
    schema = served(group, standard).get((api_version, kind)) if group else None
    if schema is None:
        return None
    same = [
        av
        for av in stable_versions(api_version, kind)
        if served(group, standard)[(av, kind)] == schema
    ]
    return same[0] if same else None
