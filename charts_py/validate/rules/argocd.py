"""Argo CD bootstraps: what the controller would refuse, or wait on forever.

Argo CD admits an Application only if its AppProject permits the destination (a cluster by
name or server, and a namespace, matched as globs with `!` negation), and at sync time
every object's group/kind and namespace (pkg/apis/application/v1alpha1/app_project_types.go:
isDestinationMatched, IsGroupKindNamePermitted). Within one Application it starts a sync
wave only once every object of the earlier waves is Healthy (gitops-engine sync_context.go).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from charts_py.contract import CLUSTER, SYNC_WAVE
from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.groupkinds import GroupKind
from charts_py.validate.rules.base import Outcome, check, estate_check, fail, ok
from charts_py.validate.scope import Scope, dig, items, mapping, wave

HEALTH_CHECKED = frozenset(
    {
        # gitops-engine pkg/health: built-in assessments.
        *gk.WORKLOADS,
        gk.POD,
        GroupKind("", "PersistentVolumeClaim"),
        gk.JOB,
        gk.HPA,
        GroupKind("networking.k8s.io", "Ingress"),
        GroupKind("apiregistration.k8s.io", "APIService"),
        # argo-cd resource_customizations/: Lua checks bundled with the controller.
        gk.PDB,
        gk.CRON_JOB,
        gk.APPLICATION_SET,
        gk.K8S_GATEWAY,
        gk.HTTP_ROUTE,
        gk.GRPC_ROUTE,
        gk.TLS_ROUTE,
    }
)
"""Kinds whose health Argo CD assesses by default (a Service only when a LoadBalancer)."""


@dataclass(frozen=True)
class Target:
    """Where an Application (or an ApplicationSet's template) sends its objects."""

    doc: Document
    at: str
    """JSON Pointer of the Application spec inside `doc`."""
    spec: dict[str, Any]

    @property
    def project(self) -> str:
        return str(self.spec.get("project") or "default")

    @property
    def destination(self) -> dict[str, Any]:
        return mapping(self.spec.get("destination"))


def targets(scope: Scope) -> Iterator[Target]:
    """Every Application spec of the scope, an ApplicationSet's template included."""
    for doc in scope.of(gk.APPLICATION):
        yield Target(doc, "/spec", doc.spec)
    for doc in scope.of(gk.APPLICATION_SET):
        yield Target(doc, "/spec/template/spec", mapping(dig(doc.spec, "template", "spec")))


def projects(scopes: Sequence[Scope]) -> dict[str, Document]:
    """AppProjects by name (Argo CD looks them up in its own namespace)."""
    return {doc.name: doc for scope in scopes for doc in scope.of(gk.APP_PROJECT)}


def templated(value: str) -> bool:
    """An ApplicationSet parameter (`{{...}}`): known only when the generator runs."""
    return "{{" in value


def glob(pattern: object, value: str) -> bool:
    """Argo CD's destination match: `*` matches anything; `!` negates."""
    text = str(pattern or "")
    if text.startswith("!"):
        return not fnmatch.fnmatchcase(value, text[1:])
    return text == "*" or fnmatch.fnmatchcase(value, text)


def permitted(project: Document, cluster: str, namespace: str) -> bool:
    """Whether `project` lets an Application target `namespace` in `cluster` (a name, or a
    server URL). Mirrors isDestinationMatched, deny patterns included."""
    field = "server" if "://" in cluster else "name"
    matched = False
    for entry in items(project.spec.get("destinations")):
        item = mapping(entry)
        pattern, ns_pattern = str(item.get(field) or ""), str(item.get("namespace") or "")
        hit = bool(pattern) and glob(pattern, cluster)
        in_ns = glob(ns_pattern, namespace)
        if hit and in_ns:
            matched = True
        elif (not hit and pattern.startswith("!") and in_ns) or (
            hit and not in_ns and ns_pattern.startswith("!")
        ):
            return False
    return matched


def kind_permitted(project: Document, doc: Document) -> bool:
    """Whether `project` lets Argo CD sync an object of this group/kind (IsGroupKindNamePermitted).
    An object that names no namespace is taken as cluster-scoped."""
    group = doc.api_version.rpartition("/")[0]
    if doc.namespace:
        allow = project.spec.get("namespaceResourceWhitelist")
        deny = items(project.spec.get("namespaceResourceBlacklist"))
        listed = allow is None or _listed(items(allow), group, doc.kind, "")
        return listed and not _listed(deny, group, doc.kind, "")
    allow = items(project.spec.get("clusterResourceWhitelist"))
    deny = items(project.spec.get("clusterResourceBlacklist"))
    return _listed(allow, group, doc.kind, doc.name) and not _listed(
        deny, group, doc.kind, doc.name
    )


def _listed(entries: list[Any], group: str, kind: str, name: str) -> bool:
    """Whether a group/kind(/name) is in a white- or blacklist (filepath.Match globs)."""
    for entry in entries:
        item = mapping(entry)
        pattern = str(item.get("name") or "*")
        if (
            fnmatch.fnmatchcase(kind, str(item.get("kind", "")))
            and fnmatch.fnmatchcase(group, str(item.get("group", "")))
            and fnmatch.fnmatchcase(name, pattern)
        ):
            return True
    return False


def named_clusters(project: Document) -> list[str]:
    """The literal cluster names and servers among the project's destinations."""
    out = set()
    for entry in items(project.spec.get("destinations")):
        value = str(mapping(entry).get("name") or mapping(entry).get("server") or "")
        if value and not templated(value) and not any(c in value for c in "*?[!"):
            out.add(value)
    return sorted(out)


def literal(value: object) -> str:
    """`value` as a string if it is known before any generator runs, else empty."""
    text = str(value or "")
    return "" if templated(text) else text


@estate_check("argocd-destination")
def argocd_destination(scopes: Sequence[Scope]) -> Iterator[Outcome]:
    known = projects(scopes)
    for target in (t for scope in scopes for t in targets(scope)):
        project = known.get(target.project)
        namespace = str(target.destination.get("namespace") or "")
        if project is None or templated(namespace):
            continue  # a project applied out of band, or a namespace only the generator knows
        dest = target.destination
        cluster = literal(dest.get("name") or dest.get("server"))
        clusters = [cluster] if cluster else named_clusters(project)
        refused = [c for c in clusters if not permitted(project, c, namespace)]
        at = f"{target.at}/destination/namespace"
        if refused:
            message = (
                f"destination (cluster {refused[0]}, namespace {namespace!r}) matches none of "
                f"AppProject {project.name}'s destinations: Argo CD rejects the Application "
                "(InvalidSpecError) and syncs nothing"
            )
            yield fail(target.doc, at, message)
        else:
            yield ok(target.doc, at, f"destination permitted by AppProject {project.name}")


def source_dirs(target: Target) -> tuple[list[str], list[str]]:
    """Directory globs (included, excluded) whose files the target syncs: its source path,
    or, when that is templated, the directories of its git generators."""
    raw = str(dig(target.spec, "source", "path") or "")
    path = literal(raw)
    if path or target.doc.group_kind != gk.APPLICATION_SET:
        return ([path] if path else []), []
    listed = _listed_paths(target, raw)
    if listed:
        return listed, []
    found = [
        mapping(d)
        for g in items(target.doc.spec.get("generators"))
        for d in items(dig(g, "git", "directories"))
    ]
    include = [str(d.get("path")) for d in found if d.get("path") and not d.get("exclude")]
    return include, [str(d.get("path")) for d in found if d.get("path") and d.get("exclude")]


_PARAMETER = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}")


def _listed_paths(target: Target, path: str) -> list[str]:
    """The source paths of an ApplicationSet's list generators' elements (`{{.env}}` filled
    in), where every parameter of `path` is a key of the element."""
    out = []
    for generator in items(target.doc.spec.get("generators")):
        for element in items(dig(generator, "list", "elements")):
            filled = _fill(path, mapping(element))
            if filled:
                out.append(filled)
    return sorted(set(out))


def _fill(path: str, values: dict[str, Any]) -> str:
    """`path` with its `{{.key}}` parameters from `values`, or empty if one is missing."""
    keys = _PARAMETER.findall(path)
    if not keys or not all(k in values for k in keys):
        return ""
    return _PARAMETER.sub(lambda m: str(values[m.group(1)]), path)


def argocd_glob(pattern: str, path: str) -> bool:
    """Argo CD's directory include/exclude match: gobwas glob without separators, so `*`
    spans `/`, and `{a,b}` alternatives (reposerver getPotentiallyValidManifestFile, argo-cd
    v3.6.1, matching the path relative to the Application's folder)."""
    if pattern.startswith("{") and pattern.endswith("}"):
        return any(fnmatch.fnmatchcase(path, p) for p in pattern[1:-1].split(","))
    return fnmatch.fnmatchcase(path, pattern)


def _files_synced(target: Target, folder: tuple[str, ...], doc: Document) -> bool:
    """Whether the source's `directory.include`/`exclude` let `doc`'s file through."""
    directory = mapping(dig(target.spec, "source", "directory"))
    parts = PurePosixPath(doc.file).parts
    relative = "/".join(parts[len(_prefix(parts, folder)) :])
    exclude, include = str(directory.get("exclude") or ""), str(directory.get("include") or "")
    if exclude and argocd_glob(exclude, relative):
        return False
    return not include or argocd_glob(include, relative)


def _prefix(parts: tuple[str, ...], folder: tuple[str, ...]) -> tuple[str, ...]:
    """`parts` up to and including the window `folder`."""
    for i in range(len(parts) - len(folder) + 1):
        if parts[i : i + len(folder)] == folder:
            return parts[: i + len(folder)]
    return folder


def _window(parts: tuple[str, ...], pattern: str) -> Iterator[tuple[str, ...]]:
    segments = pattern.strip("/").split("/")
    for i in range(len(parts) - len(segments) + 1):
        window = parts[i : i + len(segments)]
        if all(fnmatch.fnmatchcase(p, s) for p, s in zip(window, segments, strict=True)):
            yield window


def synced_dir(target: Target, doc: Document) -> tuple[str, ...] | None:
    """The source directory of `target` that holds `doc`'s file, or None if it syncs no such
    file (a directory source reads its subfolders only with `recurse: true`)."""
    include, exclude = source_dirs(target)
    parts = PurePosixPath(doc.file).parent.parts
    recurse = dig(target.spec, "source", "directory", "recurse") is True
    for pattern in include:
        for window in _window(parts, pattern):
            if not recurse and parts[-len(window) :] != window:
                continue
            excluded = any(True for e in exclude for _ in _window(window, e))
            if not excluded and _files_synced(target, window, doc):
                return window
    return None


def cluster_of(target: Target, folder: tuple[str, ...], doc: Document) -> str:
    """Where `doc` goes: the literal destination, the folder's name for the usual
    `{{.path.basename}}` template, else the object's cluster label."""
    dest = target.destination
    raw = str(dest.get("name") or dest.get("server") or "")
    if not templated(raw):
        return raw
    return folder[-1] if "path.basename" in raw else doc.labels.get(CLUSTER, "")


@estate_check("argocd-project-permits")
def argocd_project_permits(scopes: Sequence[Scope]) -> Iterator[Outcome]:
    known = projects(scopes)
    docs = [doc for scope in scopes for doc in scope.docs]
    for target in (t for scope in scopes for t in targets(scope)):
        project = known.get(target.project)
        if project is None:
            continue
        for doc in docs:
            folder = synced_dir(target, doc)
            if folder is not None:
                yield from _judge(project, cluster_of(target, folder, doc), doc)


def _judge(project: Document, cluster: str, doc: Document) -> Iterator[Outcome]:
    group = doc.api_version.rpartition("/")[0] or "core"
    if not kind_permitted(project, doc):
        scope = "namespaceResourceWhitelist" if doc.namespace else "clusterResourceWhitelist"
        message = (
            f"{group}/{doc.kind} is not in AppProject {project.name}'s {scope}: Argo CD "
            "refuses to sync it (and, with it, the whole sync fails)"
        )
        yield fail(doc, "/kind", message)
    elif doc.namespace and cluster and not permitted(project, cluster, doc.namespace):
        message = (
            f"namespace {doc.namespace} of cluster {cluster} is not a destination of AppProject "
            f"{project.name}: Argo CD refuses to sync the object"
        )
        yield fail(doc, "/metadata/namespace", message)


@check("sync-wave-health")
def sync_wave_health(scope: Scope) -> Iterator[Outcome]:
    gates = [d for d in scope.docs if _health_checked(d)]
    if not gates:
        return
    first = min(gates, key=wave)
    for doc in scope.docs:
        if wave(doc) > wave(first):
            message = (
                f"syncs in wave {wave(doc)}, after {first.kind} {first.namespace}/{first.name} "
                f"(wave {wave(first)}) whose health Argo CD waits for: while that workload is "
                "unhealthy this object never syncs"
            )
            yield fail(doc, pointer("metadata", "annotations", SYNC_WAVE), message)


def _health_checked(doc: Document) -> bool:
    if doc.group_kind == gk.SERVICE:
        return doc.spec.get("type") == "LoadBalancer"
    return doc.group_kind in HEALTH_CHECKED
