"""The control plane in the manifests: revisions in use exist, Telemetry providers are defined,
ambient namespaces have ambient's control plane.

The istiod and gateway installations are Argo CD Applications of Istio's Helm charts
(dist/_bootstrap/control-plane, checked with the environment they are labelled for). Their
Helm values say which revisions run and what each mesh configuration defines.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from charts_py.config import installation
from charts_py.jsonpointer import pointer
from charts_py.naming import MESH_ROOT
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.ambient import DATAPLANE_MODE, ambient_namespaces
from charts_py.validate.rules.base import Outcome, check, estate_check, fail, ok
from charts_py.validate.scope import Scope, dig, items, mapping, namespace, pod_labels

BUILTIN_PROVIDERS = frozenset(("prometheus", "stackdriver", "envoy"))
"""Extension providers istiod defines whatever its meshConfig (istio pkg/config/mesh)."""
TELEMETRY_SECTIONS = ("tracing", "accessLogging", "metrics")
NETWORK_LABEL = installation.NETWORK_LABEL
DEFAULT = "default"
"""The revision of an istiod installed without one (and of `istio-injection: enabled`)."""


@dataclass(frozen=True, kw_only=True)
class HelmRelease:
    """One Helm chart installed by an Argo CD Application, with its values."""

    doc: Document
    chart: str
    values: dict[str, Any]
    at: str
    """JSON Pointer of the source inside the Application."""
    release: str
    """The Helm release name (Argo CD's default: the Application's name)."""

    @property
    def revision(self) -> str:
        return str(self.values.get("revision") or DEFAULT)


def helm_releases(scope: Scope, chart: str) -> list[HelmRelease]:
    """Every source of `chart` (any repository) among the scope's Applications."""
    out = []
    for app in scope.of(gk.APPLICATION):
        sources = [("/spec/source", mapping(app.spec.get("source")))]
        sources += [(pointer("spec", "sources", i), mapping(s)) for i, s in _sources(app)]
        for at, source in sources:
            if source.get("chart") == chart:
                helm = mapping(source.get("helm"))
                release = str(helm.get("releaseName") or app.name)
                out.append(
                    HelmRelease(doc=app, chart=chart, values=_values(helm), at=at, release=release)
                )
    return out


def _sources(app: Document) -> Iterator[tuple[int, Any]]:
    yield from enumerate(items(app.spec.get("sources")))


def _values(helm: dict[str, Any]) -> dict[str, Any]:
    """`valuesObject` over `values` (a YAML string), as Argo CD merges them."""
    text = helm.get("values")
    try:
        parsed = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        parsed = None  # the schema and Argo CD report unparsable values
    return {**mapping(parsed), **mapping(helm.get("valuesObject"))}


def installed_revisions(istiods: list[HelmRelease]) -> set[str]:
    """Revisions and revision tags the istiod releases serve."""
    out = {r.revision for r in istiods}
    for release in istiods:
        out |= {str(t) for t in items(release.values.get("revisionTags"))}
    return out


@check("revision-exists")
def revision_exists(scope: Scope) -> Iterator[Outcome]:
    istiods = helm_releases(scope, "istiod")
    if not istiods:
        return  # the control plane is installed out of band: nothing to compare with
    known = installed_revisions(istiods)
    listed = ", ".join(sorted(known))
    for ns in scope.of(gk.NAMESPACE):
        wanted = ns.labels.get("istio.io/rev")
        if wanted is None and ns.labels.get("istio-injection") == "enabled":
            wanted = DEFAULT
        if wanted is None:
            continue
        at = "/metadata/labels"
        if wanted in known:
            yield ok(ns, at, f"revision {wanted} is installed")
        else:
            message = f"revision {wanted!r} is not installed here (istiod revisions: {listed})"
            yield fail(ns, at, f"{message}: its pods would start without a sidecar")
    for gateway in helm_releases(scope, "gateway"):
        at = f"{gateway.at}/helm/valuesObject/revision"
        if gateway.revision in known:
            yield ok(gateway.doc, at, f"revision {gateway.revision} is installed")
        else:
            message = f"gateway on revision {gateway.revision!r}, not installed (have: {listed})"
            yield fail(gateway.doc, at, f"{message}: its pods would not be injected")


AMBIENT_ENV = "PILOT_ENABLE_AMBIENT"
"""The istiod setting ambient needs (the istiod chart's ambient profile sets it)."""


@check("ambient-installed")
def ambient_installed(scope: Scope) -> Iterator[Outcome]:
    """An ambient namespace in a cluster without ambient's control plane: no istio-cni
    redirects its pods' traffic and no ztunnel carries it, so they run outside the mesh (no
    mTLS, no policy) while the namespace looks meshed. Judged by the control-plane
    Applications in the manifests, else by the cluster's declared installation
    (config/installation.py); with neither, the control plane is out of band: not judged."""
    found = [d for d in scope.of(gk.NAMESPACE) if d.name in ambient_namespaces(scope)]
    missing = _missing_for_ambient(scope) if found else None
    if missing is None:
        return
    at = pointer("metadata", "labels", DATAPLANE_MODE)
    for ns in found:
        if not missing:
            yield ok(ns, at, "istio-cni, ztunnel and an ambient istiod are installed")
            continue
        yield fail(
            ns,
            at,
            f"ambient namespace {ns.name}, but {'; '.join(missing)}: its pods' traffic is "
            "captured by nothing (no mTLS, no policy); install Istio's charts `cni` "
            "(profile ambient) and `ztunnel`, and istiod with profile ambient, or keep the "
            "namespace on sidecars",
        )


def _missing_for_ambient(scope: Scope) -> list[str] | None:
    """What ambient needs and the cluster lacks; None when nothing says what it has."""
    istiods = helm_releases(scope, "istiod")
    if istiods:
        missing = [
            f"no {chart} release"
            for chart in (installation.ISTIO_CNI.chart, installation.ZTUNNEL.chart)
            if not helm_releases(scope, chart)
        ]
        missing += [
            f"istio-cni {r.release} does not redirect for ambient (no profile ambient)"
            for r in helm_releases(scope, installation.ISTIO_CNI.chart)
            if not _ambient_on(r, mapping(r.values.get("ambient")).get("enabled"))
        ]
        missing += [
            f"istiod {r.revision} runs without ambient (no profile ambient)"
            for r in istiods
            if not _ambient_on(
                r, mapping(mapping(r.values.get("pilot")).get("env")).get(AMBIENT_ENV)
            )
        ]
        return missing
    if scope.installation.declared:
        agents = ", ".join(a.release for a in installation.NODE_AGENTS)
        return [] if scope.installation.ambient else [f"{scope.name} installs no {agents}"]
    return None


def _ambient_on(release: HelmRelease, setting: object) -> bool:
    """The chart's ambient profile, or the value it sets (istiod's
    `pilot.env.PILOT_ENABLE_AMBIENT`, istio-cni's `ambient.enabled`) set to true."""
    on = str(setting).lower() == "true"
    return release.values.get("profile") == installation.AMBIENT_PROFILE or on


@check("telemetry-provider-defined")
def telemetry_provider_defined(scope: Scope) -> Iterator[Outcome]:
    configs = [(release, _provider_names(release)) for release in helm_releases(scope, "istiod")]
    for telemetry in scope.of(gk.TELEMETRY):
        for at, name in _named_providers(telemetry):
            missing = [r.revision for r, names in configs if name not in names]
            if name in BUILTIN_PROVIDERS and not missing:
                yield ok(telemetry, at, f"{name} is built into istiod")
            elif not configs:
                # The mesh configuration is not in these manifests (hand-written manifests, or
                # dist/<env> without dist/_bootstrap): nothing to judge against, no false alarm.
                yield ok(telemetry, at, f"{name}: no istiod Application here to check it against")
            elif missing:
                revisions = ", ".join(missing)
                message = f"provider {name!r} is not in meshConfig.extensionProviders of istiod"
                yield fail(telemetry, at, f"{message} {revisions}: Istio ignores this setting")
            else:
                yield ok(telemetry, at, f"{name} is defined by every istiod revision")


def _provider_names(release: HelmRelease) -> frozenset[str]:
    providers = items(dig(release.values, "meshConfig", "extensionProviders"))
    return BUILTIN_PROVIDERS | {str(p.get("name")) for p in providers if isinstance(p, dict)}


def _named_providers(telemetry: Document) -> Iterator[tuple[str, str]]:
    for section in TELEMETRY_SECTIONS:
        for i, entry in enumerate(items(telemetry.spec.get(section))):
            for j, provider in enumerate(items(mapping(entry).get("providers"))):
                name = mapping(provider).get("name")
                if isinstance(name, str):
                    yield pointer("spec", section, i, "providers", j, "name"), name


@estate_check("mesh-identity")
def mesh_identity(scopes: Sequence[Scope]) -> Iterator[Outcome]:
    """Multi-primary: one meshID and trust domain, one clusterName per cluster, and each
    istiod on the network its cluster's root namespace declares."""
    by_env: dict[str, list[Scope]] = {}
    for scope in scopes:
        if scope.environment and scope.name:
            by_env.setdefault(scope.environment, []).append(scope)
    for clusters in by_env.values():
        istiods = [(s, r) for s in clusters for r in helm_releases(s, "istiod")]
        yield from _shared(istiods, ("global", "meshID"), "meshID")
        yield from _shared(istiods, ("meshConfig", "trustDomain"), "trust domain")
        yield from _cluster_names(istiods)
        for scope, release in istiods:
            yield from _network(scope, release)


def _shared(
    istiods: list[tuple[Scope, HelmRelease]], keys: tuple[str, ...], what: str
) -> Iterator[Outcome]:
    first: tuple[Scope, object] | None = None
    for scope, release in istiods:
        value = dig(release.values, *keys)
        at = f"{release.at}/helm/valuesObject{pointer(*keys)}"
        if first is None:
            first = (scope, value)
        elif value != first[1]:
            message = f"{what} {value!r} differs from {first[1]!r} in {first[0].name}"
            yield fail(release.doc, at, f"{message}: the clusters would not form one mesh")
        else:
            yield ok(release.doc, at, f"{what} shared with {first[0].name}")


def _cluster_names(istiods: list[tuple[Scope, HelmRelease]]) -> Iterator[Outcome]:
    owner: dict[object, str] = {}
    at_keys = ("global", "multiCluster", "clusterName")
    for scope, release in istiods:
        name = dig(release.values, *at_keys)
        at = f"{release.at}/helm/valuesObject{pointer(*at_keys)}"
        other = owner.setdefault(name, scope.name)
        if not name or other != scope.name:
            message = f"clusterName {name!r} is also {other}'s" if name else "no clusterName"
            yield fail(release.doc, at, f"{message}: endpoints would be attributed wrongly")


def _network(scope: Scope, release: HelmRelease) -> Iterator[Outcome]:
    root = next((d for d in scope.of(gk.NAMESPACE) if d.name == MESH_ROOT), None)
    declared = root.labels.get(NETWORK_LABEL) if root is not None else None
    network = dig(release.values, "global", "network")
    at = f"{release.at}/helm/valuesObject/global/network"
    if declared is not None and network != declared:
        message = f"network {network!r}, but {MESH_ROOT} is labelled {declared!r}"
        yield fail(release.doc, at, f"{message}: cross-network traffic would not be routed")


@check("gateway-workload-exists")
def gateway_workload_exists(scope: Scope) -> Iterator[Outcome]:
    """A Gateway whose selector matches no gateway pods configures nothing. The pods are
    those of the cluster's declared installation (config/installation.py) or of the gateway
    releases in the manifests, and of the workloads and Pods there; with neither a declared
    installation nor a release, a Gateway matching none is reported as an assumption: its
    pods may come from elsewhere."""
    known = scope.installation.declared or bool(helm_releases(scope, "gateway"))
    pods = _gateway_pods(scope)
    pods |= {f"{w.kind} {namespace(w)}/{w.name}": pod_labels(w) for w in scope.running}
    if not known:
        pods |= {f"{e.namespace}/{e.name}": dict(e.labels) for e in scope.outside("Deployment")}
    for gateway in scope.of(gk.GATEWAY):
        selector = {str(k): str(v) for k, v in mapping(gateway.spec.get("selector")).items()}
        if not selector:
            continue  # no selector: every proxy takes the configuration
        matched = sorted(
            name for name, labels in pods.items() if selector.items() <= labels.items()
        )
        if matched:
            yield ok(gateway, "/spec/selector", f"selects the pods of {', '.join(matched)}")
            continue
        message = f"no gateway pods carry {selector}: the Gateway configures nothing"
        if known:
            yield fail(gateway, "/spec/selector", message)
        else:
            assumed = "these manifests hold every gateway workload beside Istio's usual ones"
            yield fail(gateway, "/spec/selector", message, assuming=assumed)


def _gateway_pods(scope: Scope) -> dict[str, dict[str, str]]:
    """Pod labels by gateway: the cluster's declared installation (config/installation.py),
    else the gateway chart's releases among the manifests (labels as the chart derives them)."""
    if scope.installation.declared:
        return {g.release: g.pod_labels for g in scope.installation.gateways}
    return {_release_name(r): _gateway_pod_labels(r) for r in helm_releases(scope, "gateway")}


def _release_name(release: HelmRelease) -> str:
    """The gateway chart names its Deployment `name` if set, else after the release."""
    return str(release.values.get("name") or release.release)


def _gateway_pod_labels(release: HelmRelease) -> dict[str, str]:
    """The pod labels Istio's gateway chart gives a release's pods."""
    labels = {str(k): str(v) for k, v in mapping(release.values.get("labels")).items()}
    return installation.chart_pod_labels(_release_name(release), labels)
