"""Which files of a folder are Kubernetes manifests, read as a repository someone else wrote.

A repository of Istio configuration holds more YAML than manifests: Helm charts (templates
are not YAML until rendered), values files, kustomization.yaml, istioctl's IstioOperator
input, Envoy bootstraps, CI and Ansible files. Those are skipped with one note per file,
never reported as schema errors and never stopping the run. Files can be left out by glob
(`--exclude`), and objects without a namespace placed where `kubectl apply -n` would put
them (`--namespace`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from charts_py import provenance
from charts_py.objectref import group_of
from charts_py.validate import documents
from charts_py.validate.documents import Document, DocumentError

CLIENT_SIDE = {
    "kustomize.config.k8s.io": "kustomize's input",
    "install.istio.io": "istioctl install's input",
    "kind.x-k8s.io": "kind's cluster configuration",
    "kubeadm.k8s.io": "kubeadm's configuration",
    "skaffold": "skaffold's configuration",
}
"""API groups of files that tools read on the client: never sent to an API server."""
HELM_CHART = "Chart.yaml"
_TEMPLATE = "{{"


@dataclass(frozen=True)
class Loaded:
    """The objects read, and a note per file (or document) left out, saying why."""

    docs: list[Document] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load(paths: Sequence[Path], exclude: Sequence[str] = (), namespace: str = "default") -> Loaded:
    """Every object in `paths` (files, or folders read recursively), in path order, objects
    without a namespace in `namespace`; files matching an `exclude` glob are not read."""
    docs: list[Document] = []
    notes: list[str] = []
    for path in paths:
        root = path if path.is_dir() else path.parent
        for file in _files(path, exclude):
            found, note = _read(file, root, namespace)
            docs += found
            notes += [note] if note else []
    if not docs:
        shown = ", ".join(str(p) for p in paths)
        raise DocumentError(f"{shown}: no Kubernetes objects found (*.yaml, *.yml, *.json)")
    return Loaded(docs, notes)


def _files(path: Path, exclude: Sequence[str]) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if not child.is_file() or child.suffix not in documents.SUFFIXES:
                continue
            if not _hidden(child, path) and not excluded(child, path, exclude):
                yield child
    elif path.is_file():
        if not excluded(path, path.parent, exclude):
            yield path
    else:
        raise DocumentError(f"{path}: no such file or directory")


def _hidden(file: Path, root: Path) -> bool:
    """Hidden files, and synth's provenance side files (JSON beside dist's manifests)."""
    hidden = any(part.startswith(".") for part in file.relative_to(root).parts)
    return hidden or file.name.endswith(provenance.SUFFIX)


def excluded(file: Path, root: Path, patterns: Sequence[str]) -> bool:
    """Whether a glob matches the file's path (as given, or relative to the folder read) or
    one of its folders: `--exclude 'charts'` leaves out everything under charts/."""
    relative = PurePosixPath(file.relative_to(root).as_posix())
    candidates = {file.as_posix(), relative.as_posix(), file.name}
    candidates |= {p.as_posix() for p in relative.parents if p.as_posix() != "."}
    return any(fnmatch.fnmatch(c, pattern) for c in candidates for pattern in patterns)


def _read(file: Path, root: Path, namespace: str) -> tuple[list[Document], str]:
    """The objects of a file and the note on what was left out (empty: nothing)."""
    chart = _helm_chart(file, root)
    if chart is not None:
        return [], f"{file}: skipped: part of the Helm chart in {chart} (render it first)"
    try:
        found, skipped = documents.parse(file, namespace)
    except DocumentError as exc:
        if _TEMPLATE in _text(file) and isinstance(exc.__cause__, yaml.YAMLError):
            return [], f"{file}: skipped: a template ({{{{ }}}}), not YAML until rendered"
        raise
    for doc in found:
        tool = CLIENT_SIDE.get(group_of(doc.api_version))
        if tool:
            skipped.append(f"{doc.kind} is {tool}, not an API object")
    found = [d for d in found if group_of(d.api_version) not in CLIENT_SIDE]
    if not skipped:
        return found, ""
    what = "skipped" if not found else f"{len(found)} object(s) read, skipped"
    return found, f"{file}: {what}: {'; '.join(skipped)}"


def _helm_chart(file: Path, root: Path) -> Path | None:
    """The Helm chart folder holding `file` (a folder with Chart.yaml, up to `root`), if any."""
    for folder in file.parents:
        if (folder / HELM_CHART).is_file():
            return folder
        if folder == root:
            break
    return None


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
