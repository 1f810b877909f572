"""The objects import starts from: a folder of manifests, or what a cluster serves.

Both give the objects as their authors wrote them (server-populated fields dropped, see
`manifests.as_written`), in one order whatever the order they were found in, and a note for
everything passed over. Secrets are never read: a folder's are dropped as soon as they are
parsed, and a cluster's are never asked for.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charts_py import kubeapi, yamlio
from charts_py.drift.fetch import MAX_IN_FLIGHT
from charts_py.errors import ConfigError
from charts_py.importer import manifests
from charts_py.objectref import Key, ObjectRef, group_of

DEFAULT_NAMESPACE = "default"
"""Where a namespaced manifest without a namespace goes when no `--namespace` is given:
where `kubectl apply` puts it with a context that names none."""

SUFFIXES = (".yaml", ".yml", ".json")
"""The files a folder is read for (kubectl's own list); others (README.md, *.tpl) are not
manifests. A file named on the command line is read whatever its name."""


@dataclass(frozen=True)
class Sources:
    """The objects to import, ordered by (group, kind, namespace, name), and a note for
    each thing passed over (a file that is no manifest, a Secret, a duplicate...)."""

    objects: list[dict[str, Any]]
    notes: list[str]


@dataclass
class _Found:
    """Objects by identity as they are read (a later one replaces an earlier one, as a later
    `kubectl apply` would), where each came from, and the notes so far."""

    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    origin: dict[Key, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, obj: dict[str, Any], where: str) -> None:
        key = ObjectRef.of(obj).key
        if key in self.origin:
            self.notes.append(
                f"{where}: {ObjectRef.of(obj)} is also in {self.origin[key]}: "
                "the later one is imported (as `kubectl apply` of both would leave it)"
            )
        self.objects[key], self.origin[key] = obj, where

    def sources(self) -> Sources:
        return Sources([self.objects[k] for k in sorted(self.objects)], self.notes)


# --- a folder ------------------------------------------------------------------------------


def from_dir(paths: Sequence[Path], namespace: str | None) -> Sources:
    """Every object in these files and folders (recursively): `kubectl get -o yaml` dumps
    (Lists), `helm template` output and plain manifests, in path order. Namespaced objects
    written without a namespace take `namespace` (else `default`, as kubectl would).

    A file that does not parse is a ConfigError naming it and the line (in a folder, a Go
    template is skipped with a note instead); YAML that is not a Kubernetes object
    (Chart.yaml, values.yaml, kustomization.yaml) is skipped with a note.
    """
    found = _Found()
    for path in paths:
        for file in _files(path, found.notes):
            try:
                _read_file(file, namespace or DEFAULT_NAMESPACE, found)
            except ConfigError:
                if file == path or not _go_template(file):
                    raise
                found.notes.append(f"{file}: skipped: {GO_TEMPLATE}")
    return found.sources()


GO_TEMPLATE = (
    "a Go template (`{{ }}`), not YAML: render it first (`helm template`) and import the output"
)


def _go_template(file: Path) -> bool:
    """Whether a file that does not parse holds Go template actions: a template found in a
    folder (a chart's files outside `templates/`, a helmfile's) is skipped, so a whole
    repository imports; the same file given by name is bad input."""
    try:
        return "{{" in file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _files(path: Path, notes: list[str]) -> Iterator[Path]:
    """The manifest files under `path` in sorted order; hidden folders (.git) and a Helm
    chart's templates (Go templates, not YAML) are not entered, the latter with a note, and
    the files a kustomization lists as patches are skipped with one."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise ConfigError(str(path), "--from-dir", "no such file or folder")
    found: list[Path] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if "Chart.yaml" in files and "templates" in dirs:
            dirs.remove("templates")
            notes.append(
                f"{Path(folder) / 'templates'}: skipped: a Helm chart's templates are not "
                "manifests; run `helm template` and import its output"
            )
        found += [Path(folder) / name for name in sorted(files) if name.endswith(SUFFIXES)]
    if not found:
        raise ConfigError(str(path), "--from-dir", "no YAML or JSON files found")
    patches = {p for file in found if file.name in KUSTOMIZATIONS for p in _patches_of(file)}
    for file in found:
        if file.resolve() in patches:
            notes.append(f"{file}: skipped: {KUSTOMIZE_PATCH}")
        else:
            yield file


KUSTOMIZATIONS = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
KUSTOMIZE_PATCH = (
    "a kustomize patch (a kustomization beside it lists it), not a whole object: run "
    "`kubectl kustomize` and import its output"
)


def _patches_of(kustomization: Path) -> Iterator[Path]:
    """The files a kustomization applies as patches (`patchesStrategicMerge`, `patches`,
    `patchesJson6902`): they look like objects, but hold only the fields they change, and
    read as objects they would replace the whole ones they patch."""
    try:
        data = yamlio.load(kustomization.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return  # read again as a manifest, which says what is wrong with it
    if not isinstance(data, dict):
        return
    listed = [p for p in data.get("patchesStrategicMerge") or [] if isinstance(p, str)]
    for key in ("patches", "patchesJson6902"):
        listed += [p["path"] for p in data.get(key) or [] if isinstance(p, dict) and "path" in p]
    for relative in listed:
        yield (kustomization.parent / str(relative)).resolve()


def _read_file(file: Path, namespace: str, found: _Found) -> None:
    """The objects of one file into `found`; one note for what in it is not an object."""
    skipped: list[str] = []
    for doc in _documents(file):
        for item in doc["items"] if manifests.is_list(doc) else [doc]:
            reason = manifests.not_an_object(item)
            if reason is not None:
                skipped.append(reason)
            elif manifests.group_kind(item) == manifests.SECRET:
                found.notes.append(f"{file}: {_ref(item, namespace)}: {SECRET_NOTE}")
            else:
                found.add(
                    _placed(manifests.as_sent(manifests.as_written(item)), namespace), str(file)
                )
    if skipped:
        found.notes.append(f"{file}: skipped: {'; '.join(sorted(set(skipped)))}")


SECRET_NOTE = "skipped: import never reads Secrets (keep them out of band)"


def _documents(file: Path) -> Iterator[Any]:
    """Every non-empty YAML document of a file, or a ConfigError naming file and line."""
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(str(file), "", "not YAML: not UTF-8 text") from None
    try:
        docs = list(yamlio.load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(str(file), "", f"not YAML: {problem}", line=line) from None
    return (doc for doc in docs if doc is not None)


def _placed(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The object in `namespace` if its kind is namespaced and it names none."""
    meta = obj["metadata"]
    if manifests.namespaced(obj) and not meta.get("namespace"):
        obj["metadata"] = {**meta, "namespace": namespace}
    return obj


def _ref(obj: dict[str, Any], namespace: str) -> str:
    meta = obj["metadata"]
    return f"{obj['kind']} {meta.get('namespace') or namespace}/{meta['name']}"


# --- a cluster -----------------------------------------------------------------------------

WORKLOADS = frozenset({("apps", "Deployment"), ("apps", "StatefulSet"), ("", "Service")})
"""The non-mesh kinds import reads: what routes and policies select and name."""
GATEWAY_API = "gateway.networking.k8s.io"
SYSTEM_PREFIX = "kube-"
CONTROL_PLANE_NAMESPACE = "istio-system"
ISTIOD_SELECTOR = "app=istiod"
"""Istio's charts label istiod's Deployment so (any revision): where it runs is the control
plane's namespace, whatever its name."""
INJECTION_LABELS = ("istio-injection", "istio.io/rev", "istio.io/dataplane-mode")
"""A namespace labelled with any of these is in the mesh (sidecar or ambient)."""
PER_NAMESPACE_MAX = 8
"""Up to this many namespaces, each kind is LISTed per namespace; beyond, one cluster-wide
LIST per kind, filtered as its pages arrive. Measured on the local control plane (17 kinds,
40 namespaces of 90 objects, best of 3): per namespace 45 ms for 1, 160 ms for 8, 390 ms for
16; cluster-wide 160-260 ms whatever the number. Cluster-wide grows with the whole cluster,
per namespace only with what is read: 8 is where they meet on a small cluster."""


def from_cluster(cluster: kubeapi.Cluster, namespaces: Sequence[str]) -> Sources:
    """The namespaces' Namespace objects, Deployments, StatefulSets and Services, and every
    Istio (`*.istio.io`) and Gateway API object, each kind at its preferred version: one
    LIST per kind (and namespace), never a GET per object, never a Secret.

    With no `namespaces`: every namespace that holds Istio or Gateway API objects or is
    labelled for injection, except Kubernetes' own (`kube-*`) and the control plane's.
    """
    mesh, workloads = _served(cluster)
    all_namespaces = {
        ns["metadata"]["name"]: ns
        for ns in cluster.list(cluster.served("v1", "Namespace"), keep=manifests.as_written)
    }
    notes: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
        if namespaces:
            chosen = _named(namespaces, all_namespaces, cluster.server)
            objects = _read(pool, cluster, mesh + workloads, chosen)
        else:
            everywhere = _read(pool, cluster, mesh, None)
            chosen = _meshed(cluster, everywhere, all_namespaces, notes)
            objects = [o for o in everywhere if o["metadata"]["namespace"] in chosen]
            objects += _read(pool, cluster, workloads, chosen)
    found = _Found(notes=notes)
    for name in sorted(chosen):
        found.add(all_namespaces[name], cluster.server)
    for obj in objects:
        why = _made_for_us(obj)
        if why:
            found.notes.append(f"{ObjectRef.of(obj)}: skipped: {why}")
        else:
            found.add(obj, cluster.server)
    return found.sources()


def _served(cluster: kubeapi.Cluster) -> tuple[list[kubeapi.Resource], list[kubeapi.Resource]]:
    """The namespaced mesh kinds (Istio's, Gateway API's) and workload kinds the server
    serves, sorted by group and kind."""
    mesh, workloads = [], []
    for res in cluster.preferred():
        group = group_of(res.api_version)
        if not res.namespaced:
            continue
        if group.endswith(".istio.io") or group == GATEWAY_API:
            mesh.append(res)
        elif (group, res.kind) in WORKLOADS:
            workloads.append(res)

    def order(res: kubeapi.Resource) -> tuple[str, str]:
        return group_of(res.api_version), res.kind

    return sorted(mesh, key=order), sorted(workloads, key=order)


def _named(namespaces: Sequence[str], existing: dict[str, dict[str, Any]], server: str) -> set[str]:
    missing = sorted(set(namespaces) - existing.keys())
    if missing:
        raise ConfigError(server, "--namespace", f"no such namespace: {', '.join(missing)}")
    return set(namespaces)


def _meshed(
    cluster: kubeapi.Cluster,
    mesh_objects: list[dict[str, Any]],
    all_namespaces: dict[str, dict[str, Any]],
    notes: list[str],
) -> set[str]:
    """The default namespaces: holding mesh objects or labelled for injection, minus
    Kubernetes' own and the control plane's (said in a note, so the user can widen it)."""
    holding = {o["metadata"]["namespace"] for o in mesh_objects}
    injected = {
        name
        for name, ns in all_namespaces.items()
        if any(label in (ns["metadata"].get("labels") or {}) for label in INJECTION_LABELS)
    }
    control = {CONTROL_PLANE_NAMESPACE} | _control_plane(cluster)
    left_out = {n for n in holding | injected if n.startswith(SYSTEM_PREFIX) or n in control}
    chosen = ((holding | injected) & all_namespaces.keys()) - left_out
    notes.append(
        f"no --namespace: read {', '.join(sorted(chosen)) or 'no namespace'} (holding Istio or "
        "Gateway API objects, or labelled for injection)"
        + (f"; left out {', '.join(sorted(left_out))} (system, control plane)" if left_out else "")
    )
    return chosen


def _control_plane(cluster: kubeapi.Cluster) -> set[str]:
    """Namespaces where an istiod Deployment runs (one label-selected LIST)."""
    deployments = cluster.served("apps/v1", "Deployment")
    found = cluster.list(deployments, label_selector=ISTIOD_SELECTOR, keep=_identity)
    return {o["metadata"]["namespace"] for o in found}


def _identity(obj: dict[str, Any]) -> dict[str, Any]:
    """Only the metadata's name and namespace: the rest of the object is not needed."""
    meta = obj["metadata"]
    return {"metadata": {"name": meta["name"], "namespace": meta.get("namespace", "")}}


def _read(
    pool: concurrent.futures.ThreadPoolExecutor,
    cluster: kubeapi.Cluster,
    resources: Sequence[kubeapi.Resource],
    namespaces: set[str] | None,
) -> list[dict[str, Any]]:
    """Every object of these kinds in `namespaces` (None: everywhere), as written; the
    LISTs run a bounded number at a time, and a kind that cannot be read fails the read."""
    if namespaces is not None and not namespaces:
        return []
    if namespaces is None or len(namespaces) > PER_NAMESPACE_MAX:
        keep = _in(namespaces)
        futures = [pool.submit(cluster.list, res, keep=keep) for res in resources]
    else:
        futures = [
            pool.submit(cluster.list, res, namespace=ns, keep=manifests.as_written)
            for res in resources
            for ns in sorted(namespaces)
        ]
    return [obj for future in futures for obj in future.result()]


def _in(namespaces: set[str] | None) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """A LIST's `keep`: objects in `namespaces` (None: all), as written."""

    def keep(obj: dict[str, Any]) -> dict[str, Any] | None:
        if namespaces is not None and obj["metadata"].get("namespace") not in namespaces:
            return None
        return manifests.as_written(obj)

    return keep


def _made_for_us(obj: dict[str, Any]) -> str | None:
    """Why an object is not the user's to import: a controller made it (an Istio gateway's
    Deployment for a Gateway API Gateway: its owner is imported), or the API server did (the
    `kubernetes` Service in `default`)."""
    meta = obj["metadata"]
    owner = next((o for o in meta.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is not None:
        return f"made by its controller {owner.get('kind')} {owner.get('name')}"
    if (obj["kind"], meta.get("namespace"), meta["name"]) == ("Service", "default", "kubernetes"):
        return "the API server's own Service"
    return None
