"""Where each source object goes in the environment file: a typed field (`via: model`),
`extensions:` (`via: extension`), or nowhere (left out of band, named in the report).

Typed fields first, the narrowest that renders the object as it is: a VirtualService or
DestinationRule of one service's host becomes that service's routes, subsets and traffic
policy; every other Istio object of the platform's namespace its top-level list, as written.
An object placed at a level whose rendering turns out not to equal it is moved one level
down by the caller (`demoted`), so the file never keeps a placement that was not verified.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from charts_py import kinds, naming
from charts_py.config import gateway_api_objects, installation, istio_checks, istio_objects
from charts_py.importer import manifests, service_fields, workloads
from charts_py.importer.model import Inexpressible, Via
from charts_py.objectref import ObjectRef, group_of
from charts_py.validate import crd_schema, schemas


class Level(enum.IntEnum):
    """Placements from the narrowest typed field down to none; a demotion moves one down."""

    SERVICE = 0
    """A service's own fields (routes, subsets, traffic policy)."""
    TOP = 1
    """A top-level list of Istio objects, as written."""
    EXTENSION = 2
    OUT_OF_BAND = 3


ISTIO_FIELDS: dict[tuple[str, str], tuple[str, type[BaseModel]]] = {
    ("networking.istio.io", "Gateway"): ("gateways", istio_objects.Gateway),
    ("networking.istio.io", "VirtualService"): ("virtualServices", istio_objects.VirtualService),
    ("networking.istio.io", "DestinationRule"): (
        "destinationRules",
        istio_objects.DestinationRule,
    ),
    ("networking.istio.io", "ServiceEntry"): ("serviceEntries", istio_objects.ServiceEntry),
    ("networking.istio.io", "Sidecar"): ("sidecars", istio_objects.Sidecar),
    ("security.istio.io", "AuthorizationPolicy"): (
        "authorizationPolicies",
        istio_objects.AuthorizationPolicy,
    ),
    ("security.istio.io", "PeerAuthentication"): (
        "peerAuthentications",
        istio_objects.PeerAuthentication,
    ),
    ("security.istio.io", "RequestAuthentication"): (
        "requestAuthentications",
        istio_objects.RequestAuthentication,
    ),
    ("telemetry.istio.io", "Telemetry"): ("telemetries", istio_objects.Telemetry),
    **{
        (kind.group, kind.kind): (key, gateway_api_objects.BY_KIND[kind.kind])
        for kind, key in istio_checks.GATEWAY_API_LISTS
    },
}
"""Istio's core kinds (every served version) and Gateway API's by group and kind: the
top-level key that holds them as written, and its typed entry."""

TOP_ORDER = (
    "gateways",
    "virtualServices",
    "destinationRules",
    "serviceEntries",
    "sidecars",
    "authorizationPolicies",
    "peerAuthentications",
    "requestAuthentications",
    "telemetries",
    *(key for _, key in istio_checks.GATEWAY_API_LISTS),
    "extensions",
)
"""The file's order of its top-level lists (the order docs/synth.md shows them in)."""

LEFT_TO_OWNER = (
    "an application object, left to its owner: meshops meshes workloads and never takes them over"
)


@dataclass(frozen=True, kw_only=True)
class Placed:
    """Where one source object went, and what meshops renders for it (None: nothing)."""

    ref: ObjectRef
    level: Level
    via: Via | None
    rendered_as: ObjectRef | None
    reason: str | None = None
    """Why it is not in a narrower place (or, out of band, why it is not rendered)."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """What the environment file is for: its name, cluster, profile and platform namespace."""

    env: str
    cluster: str
    profile: str
    namespace: str
    argocd: Mapping[str, Any]
    """The `argocd:` block, as the folder's other environment files have it."""
    inexpressible: Inexpressible
    plurals: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """Resource names by (group, kind), from the API server's discovery (a cluster's
    sources); the CustomResourceDefinitions among the sources add theirs."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The environment file's content and each source object's place in it."""

    data: dict[str, Any]
    placed: tuple[Placed, ...]


def plan(
    objects: Sequence[dict[str, Any]],
    target: Target,
    demoted: Mapping[ObjectRef, tuple[Level, str]] | None = None,
) -> Plan:
    """Place every source object (Secrets are never read: dropped unseen); `demoted` holds
    the objects a verification moved below a level, with why."""
    demoted = demoted or {}
    sources = sorted(
        (
            o
            for o in objects
            if (group_of(o.get("apiVersion", "")), o.get("kind")) != ("", "Secret")
        ),
        key=_order,
    )
    builder = _Builder(target, demoted, {**target.plurals, **_plurals(sources)})
    builder.add_workloads(sources)
    for obj in sources:
        builder.add(obj)
    return Plan(data=builder.data(), placed=tuple(builder.placed))


def _order(obj: dict[str, Any]) -> tuple[bool, str, str, str]:
    """Namespaces last (whether one holds imported objects is known then), the rest by
    namespace, kind and name."""
    ref = ObjectRef.of(obj)
    return (ref.kind == "Namespace" and ref.group == "", ref.namespace, ref.kind, ref.name)


def _plurals(sources: Sequence[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Each custom kind's resource name, from the CustomResourceDefinitions among the
    sources (the drift job's Role needs it; a kind without one takes Kubernetes' guess)."""
    out = {}
    for obj in sources:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            if "kind" in names and "plural" in names:
                out[(str(spec.get("group", "")), str(names["kind"]))] = str(names["plural"])
    return out


class _Builder:
    """Accumulates the file's sections while placing objects one by one."""

    def __init__(
        self,
        target: Target,
        demoted: Mapping[ObjectRef, tuple[Level, str]],
        plurals: dict[tuple[str, str], str],
    ) -> None:
        self.target = target
        self.demoted = demoted
        self.plurals = plurals
        self.placed: list[Placed] = []
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        """(namespace, name) -> its `services:` entry."""
        self.wide: dict[str, dict[str, list[dict[str, Any]]]] = {}
        """namespace -> its namespace-wide lists (the top level's, or a `namespaces:` entry's)."""
        self.labels: dict[str, dict[str, str]] = {}
        self.namespaces: set[str] = {target.namespace}
        self.workload_refs: dict[ObjectRef, tuple[str, str]] = {}

    # -- workloads -----------------------------------------------------------------------

    def add_workloads(self, sources: Sequence[dict[str, Any]]) -> None:
        services = [o for o in sources if (group_of(o["apiVersion"]), o["kind"]) == ("", "Service")]
        found = [
            o for o in sources if (group_of(o["apiVersion"]), o["kind"]) in workloads.WORKLOAD_KINDS
        ]
        meshed = [s for s in services if workloads.meshable(s) is None]
        for pair in workloads.pair(meshed, found):
            key = (pair.namespace, pair.name)
            self.services[key] = workloads.entry(pair)
            self.namespaces.add(pair.namespace)
            for obj in (pair.service, *pair.workloads):
                self.workload_refs.setdefault(ObjectRef.of(obj), key)

    # -- one object ----------------------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> None:
        ref = ObjectRef.of(obj)
        group_kind = (ref.group, ref.kind)
        if ref.kind == "Namespace" and ref.group == "":
            self._namespace(obj, ref)
        elif ref in self.workload_refs:
            ns, name = self.workload_refs[ref]
            reason = (
                f"deployed by others: meshed as service {name!r} of namespace {ns} "
                "(workload:, service: theirs) and left to its owner"
            )
            self._out_of_band(ref, reason)
        elif (ref.group, ref.kind) in {("", "Service"), *workloads.WORKLOAD_KINDS}:
            why = workloads.meshable(obj) if ref.kind == "Service" else None
            self._out_of_band(ref, why or "no Service selects its pods: left to its owner")
        elif not ref.namespace:
            self._out_of_band(ref, "cluster-scoped: meshops places only namespaced objects")
        elif ref.namespace in installation.OWN_NAMESPACES:
            reason = (
                f"{ref.namespace} is a namespace meshops keeps for itself (the control plane's, "
                "out of band with it in an adopted mesh): no application object goes there"
            )
            self._out_of_band(ref, reason)
        elif group_kind in ISTIO_FIELDS:
            self._istio(obj, ref)
        elif _custom(ref.group):
            self._extension(obj, ref, Level.EXTENSION, f"no typed field covers {ref.kind}")
        else:
            self._out_of_band(ref, LEFT_TO_OWNER)

    def _namespace(self, obj: dict[str, Any], ref: ObjectRef) -> None:
        labels = {
            k: str(v)
            for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items()
            if k != NAME_LABEL
        }
        if ref.name not in self.namespaces or ref.name in installation.OWN_NAMESPACES:
            self._out_of_band(ref, "no imported object lives in it: left as it is")
            return
        self.labels[ref.name] = labels
        rendered = ObjectRef("v1", "Namespace", "", ref.name)
        self.placed.append(Placed(ref=ref, level=Level.TOP, via=Via.MODEL, rendered_as=rendered))

    def _istio(self, obj: dict[str, Any], ref: ObjectRef) -> None:
        key, entry_type = ISTIO_FIELDS[(ref.group, ref.kind)]
        spec = dict(obj.get("spec") or {})
        floor, why = self.demoted.get(ref, (Level.SERVICE, None))
        invalid = _invalid(entry_type, ref.name, spec)
        if invalid is not None:
            floor, why = (
                max(floor, Level.EXTENSION),
                f"the typed field {key} cannot say it: {invalid}",
            )
        elif (
            ref.group == kinds.GATEWAY.group
            and ref.kind == "Gateway"
            and "selector" not in spec
            and floor < Level.EXTENSION
        ):
            floor = Level.EXTENSION
            why = "a Gateway without `selector`: the typed field selects the ingress gateway"
        if floor <= Level.SERVICE and self._service_level(ref, spec):
            return
        if floor <= Level.TOP:
            self._list(ref.namespace, key).append({"name": ref.name, **spec})
            self._typed(ref, Level.TOP, why)
            return
        self._extension(obj, ref, Level.EXTENSION, why)

    def _service_level(self, ref: ObjectRef, spec: dict[str, Any]) -> bool:
        """A VirtualService or DestinationRule of exactly one service's host, in the shape
        that service's own fields render: placed there (True), else False."""
        host = spec.get("host") if ref.kind == "DestinationRule" else _only(spec.get("hosts"))
        entry = self._service_of(ref.namespace, host)
        if entry is None or not service_fields.fits(ref.name):
            return False
        if ref.kind == "VirtualService":
            placed = service_fields.routes(entry, ref.name, spec)
        elif ref.kind == "DestinationRule":
            placed = service_fields.subsets(entry, ref.name, spec, self.target.profile)
        else:
            placed = False
        if placed:
            self._typed(ref, Level.SERVICE, None)
        return placed

    def _service_of(self, namespace: str, host: object) -> dict[str, Any] | None:
        """The services: entry whose FQDN is `host` exactly (meshops writes FQDNs)."""
        if not isinstance(host, str):
            return None
        name, _, rest = host.partition(".")
        if rest != naming.fqdn("", namespace)[1:]:
            return None
        return self.services.get((namespace, name))

    def _typed(self, ref: ObjectRef, level: Level, why: str | None) -> None:
        """Placed in a typed field: rendered as meshops writes the kind (its v1)."""
        known = (*kinds.MESH_KINDS, *kinds.GATEWAY_API_KINDS)
        kind = next(k for k in known if (k.group, k.kind) == (ref.group, ref.kind))
        rendered = ObjectRef(kind.api_version, ref.kind, ref.namespace, ref.name)
        self.placed.append(
            Placed(ref=ref, level=level, via=Via.MODEL, rendered_as=rendered, reason=why)
        )

    def _extension(
        self, obj: dict[str, Any], ref: ObjectRef, level: Level, why: str | None
    ) -> None:
        spec = obj.get("spec")
        floor = self.demoted.get(ref, (level, None))[0]
        out_of_band = self.target.inexpressible is Inexpressible.OUT_OF_BAND
        api_version = ref.api_version
        if isinstance(spec, dict):
            api_version, blocked = _version_that_says(ref, spec)
        else:
            spec, blocked = {}, "an extension carries a `spec`, and this object has none"
        if blocked is not None:
            why = f"{why}; {blocked}" if why else blocked
        if blocked is not None or floor > Level.EXTENSION or out_of_band:
            self._out_of_band(ref, why or "not expressible")
            return
        entry: dict[str, Any] = {"apiVersion": api_version, "kind": ref.kind, "name": ref.name}
        plural = self.plurals.get((ref.group, ref.kind))
        if plural is not None and plural != kinds.Kind(api_version, ref.kind, True, 0).resource:
            entry["plural"] = plural
        entry |= manifests.istio_metadata(obj)
        entry["spec"] = spec
        self._list(ref.namespace, "extensions").append(entry)
        rendered = kinds.extension(api_version, ref.kind)
        at = ObjectRef(rendered.api_version, ref.kind, ref.namespace, ref.name)
        self.placed.append(
            Placed(ref=ref, level=Level.EXTENSION, via=Via.EXTENSION, rendered_as=at, reason=why)
        )

    def _list(self, namespace: str, key: str) -> list[dict[str, Any]]:
        self.namespaces.add(namespace)
        return self.wide.setdefault(namespace, {}).setdefault(key, [])

    def _out_of_band(self, ref: ObjectRef, reason: str) -> None:
        self.placed.append(
            Placed(ref=ref, level=Level.OUT_OF_BAND, via=None, rendered_as=None, reason=reason)
        )

    # -- the file ------------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        t = self.target
        out: dict[str, Any] = {
            "profile": t.profile,
            "namespace": t.namespace,
            "clusters": [{"name": t.cluster, "region": UNKNOWN_REGION, "network": t.cluster}],
            "argocd": dict(t.argocd),
            "mesh": {"managed": False},
        }
        if self.labels:
            out["namespaceLabels"] = {ns: self.labels[ns] for ns in sorted(self.labels)}
        out |= self._namespace_body(t.namespace)
        others = sorted(self.namespaces - {t.namespace})
        if others:
            out["namespaces"] = [{"name": ns, **self._namespace_body(ns)} for ns in others]
        return out

    def _namespace_body(self, namespace: str) -> dict[str, Any]:
        """A namespace's services, then its namespace-wide lists, in the file's order."""
        out: dict[str, Any] = {}
        services = [e for (ns, _), e in sorted(self.services.items()) if ns == namespace]
        if services:
            out["services"] = services
        wide = self.wide.get(namespace, {})
        return out | {key: wide[key] for key in TOP_ORDER if key in wide}


NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every Namespace (its name): never the file's to say."""
UNKNOWN_REGION = "unknown"
"""A cluster's region, which nothing an import reads says (it matters for locality failover
across clusters only): the file says so, for the platform team to fill in."""


def _only(hosts: object) -> object:
    """The one host of a `hosts` list (None for none or several)."""
    return hosts[0] if isinstance(hosts, list) and len(hosts) == 1 else None


def _custom(group: str) -> bool:
    """A group of custom resources (Gateway API's among them), not Kubernetes' own: those
    are left to their owners."""
    return group in crd_schema.groups() or ("." in group and not group.endswith(".k8s.io"))


def _version_that_says(ref: ObjectRef, spec: dict[str, Any]) -> tuple[str, str | None]:
    """The apiVersion an extension writes `spec` at: the source's, else another version its
    kind's packaged CRD serves whose schema takes it (the server keeps one object for all
    its versions: a TLSRoute without `hostnames`, read from a cluster at v1, which requires
    them, is valid at v1alpha2). With the source version's problem when none does."""
    problem = _schema_problem(ref, ref.api_version, spec)
    if problem is None:
        return ref.api_version, None
    served = crd_schema.served(ref.group) if ref.group in crd_schema.groups() else {}
    others = sorted(v for v, kind in served if kind == ref.kind and v != ref.api_version)
    for version in others:
        if _schema_problem(ref, version, spec) is None:
            return version, None
    return ref.api_version, problem


def _schema_problem(ref: ObjectRef, api_version: str, spec: dict[str, Any]) -> str | None:
    """What its kind's packaged schema at `api_version` rejects in `spec` (the API server
    would have pruned or refused it: an extension must not say it), or None."""
    manifest = {
        "apiVersion": api_version,
        "kind": ref.kind,
        "metadata": {"name": ref.name, "namespace": ref.namespace},
        "spec": spec,
    }
    for pointer, message in schemas.violations(manifest):
        return f"its kind's packaged schema rejects {pointer}: {message}"
    return None


def _invalid(entry_type: type[BaseModel], name: str, spec: dict[str, Any]) -> str | None:
    """Why `spec` (with `name`) is not a valid entry of the typed field, or None."""
    try:
        entry_type.model_validate({"name": name, **spec})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    return None
