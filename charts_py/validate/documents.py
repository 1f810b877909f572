"""Read Kubernetes objects from YAML files, folders, multi-document files and `List`s.

Each object remembers its file and the line of every field (a JSON Pointer -> line map), so
findings can name the line to fix. We walk PyYAML's composed node tree ourselves, as
config/source.py does, because the constructed data forgets positions and keeps the last
of two duplicate keys silently. Timestamps stay strings, as they do for the API server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charts_py import jsonpointer, yamlio
from charts_py.errors import MeshopsError
from charts_py.objectref import ObjectRef, group_of
from charts_py.validate.findings import Located
from charts_py.validate.groupkinds import GroupKind

SUFFIXES = (".yaml", ".yml", ".json")
"""What Argo CD's directory source reads; everything else in a folder is ignored."""

_Loader = yamlio.LOADER  # libyaml composes ~10x faster; the node tree is the same
_SCALARS = yaml.SafeLoader("")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DocumentError(MeshopsError):
    """A manifest file cannot be read or parsed: validation cannot run (exit 2)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class Document:
    """One object read from a file (or handed over by synth), with field positions."""

    file: str
    obj: dict[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)
    base: str = ""
    """Pointer of the object inside its YAML document (`/items/3` for a List item)."""
    default_namespace: str = "default"
    """Where the object lands when it names no namespace (`kubectl apply -n`)."""

    @property
    def api_version(self) -> str:
        return str(self.obj.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @functools.cached_property
    def group_kind(self) -> GroupKind:
        """What the object is, whatever its version: (API group, kind). Cached: rules ask
        for it millions of times on a large estate, and objects are never mutated."""
        return GroupKind(group_of(self.api_version), self.kind)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str:
        """The namespace as written (empty for cluster-scoped objects or when omitted)."""
        return str(self.metadata.get("namespace") or "")

    @property
    def labels(self) -> dict[str, str]:
        return _str_map(self.metadata.get("labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return _str_map(self.metadata.get("annotations"))

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def located(self) -> Located:
        ref = ObjectRef(self.api_version, self.kind, self.namespace, self.name)
        return Located(self.file, ref)

    def line_of(self, pointer: str) -> int | None:
        """The line of `pointer` in this object, or of its nearest written ancestor."""
        path = self.base + pointer
        while True:
            line = self.lines.get(path)
            if line is not None or not path:
                return line
            path = path.rpartition("/")[0]


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def read(file: Path, default_namespace: str = "default") -> list[Document]:
    """The objects of one file (documents that are not objects are left out: see parse)."""
    return parse(file, default_namespace)[0]


def parse(file: Path, default_namespace: str = "default") -> tuple[list[Document], list[str]]:
    """The objects of one file, a List's items as objects of their own, and why each other
    document is not one (a top-level list, no apiVersion or kind): YAML beside manifests in
    a repository (values, Envoy bootstraps, playbooks) is not a manifest, not a mistake."""
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise DocumentError(f"{shown}: cannot read file: {reason}") from exc
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise DocumentError(f"{shown}{line}: malformed YAML: {exc.problem}") from exc
    out: list[Document] = []
    skipped: list[str] = []
    for number, node in enumerate(nodes, start=1):
        if node is None:
            continue
        lines: dict[str, int] = {}
        data = _convert(node, "", lines, shown)
        if data is None:
            continue
        reason = _not_an_object(data)
        if reason:
            skipped.append(f"document {number} (line {lines['']}) {reason}")
            continue
        out += list(_objects(shown, data, lines, default_namespace))
    return out, skipped


def _not_an_object(data: object) -> str:
    """Why a YAML document is not a Kubernetes object, or empty if it is one."""
    if isinstance(data, list):
        return "is a list, not a Kubernetes object"
    if not isinstance(data, dict):
        return "is a scalar, not a Kubernetes object"
    missing = [key for key in ("apiVersion", "kind") if not data.get(key)]
    if missing:
        return f"has no {' or '.join(missing)}: not a Kubernetes object"
    return ""


def _objects(
    file: str, data: dict[str, Any], lines: dict[str, int], default_namespace: str
) -> Iterator[Document]:
    """The document itself, or the items of a `v1/List` (what `kubectl get -o yaml` writes)."""
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                line = lines.get(f"/items/{i}")
                raise DocumentError(f"{file}:{line}: items[{i}] is not a Kubernetes object")
            yield Document(
                file=file,
                obj=item,
                lines=lines,
                base=f"/items/{i}",
                default_namespace=default_namespace,
            )
        return
    yield Document(file=file, obj=data, lines=lines, base="", default_namespace=default_namespace)


def _convert(node: yaml.Node, path: str, lines: dict[str, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_SCALARS.construct_object(key_node))
            if key in result:
                line = key_node.start_mark.line + 1
                raise DocumentError(f"{file}:{line}: malformed YAML: duplicate key {key!r}")
            result[key] = _convert(value_node, path + jsonpointer.step(key), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, f"{path}/{i}", lines, file) for i, item in enumerate(node.value)]
    if node.tag == _TIMESTAMP:
        return node.value
    return _SCALARS.construct_object(node)


def from_objects(items: Iterable[tuple[str, dict[str, Any]]]) -> list[Document]:
    """Documents for objects already in memory (synth's rendered manifests), by file name."""
    return [Document(file=file, obj=obj) for file, obj in items]
