"""Cross-field rules for what an environment file writes in Istio's terms.

The generated types (config/istio_api.py) check each field as Istio's CRD does; these rules
need more than one field: a service's shorthand and its Istio routes never both route, object
names are unique per kind, and every extension matches its kind's packaged schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydantic.alias_generators import to_camel

from charts_py import jsonpointer, kinds
from charts_py.config import source
from charts_py.config.istio_objects import Extension
from charts_py.config.model import EnvironmentFile, NamespaceWide, Service

Problem = tuple[source.FieldPath, str]

SHORTHAND_ROUTING = ("timeout", "retries", "fault")
"""A service's fields that shape the routes meshops writes; with `http:` routes, write them
in the routes (Istio's `timeout`, `retries`, `fault`)."""

NAMED_KINDS = (
    ("AuthorizationPolicy", "authorizationPolicies"),
    ("PeerAuthentication", "peerAuthentications"),
    ("RequestAuthentication", "requestAuthentications"),
    ("Telemetry", "telemetries"),
)
"""Kinds a service and the namespace may both hold, by their environment-file key."""


def routing_problems(svc: Service, at: source.FieldPath, experiments: bool) -> Iterator[Problem]:
    """The shorthand and Istio's routes are two forms of one thing: one of them routes."""
    if svc.ports is not None:
        names = [p.name for p in svc.ports]
        if len(set(names)) != len(names):
            yield (*at, "ports"), f"port names must be unique, got {names}"
        for field in ("port", "protocol", "healthPath"):
            if field in {to_camel(f) for f in svc.model_fields_set}:
                yield (*at, field), f"with ports, {field} is not used: set it in ports"
    weights = [v.weight for v in svc.versions]
    if svc.routed:
        for field in SHORTHAND_ROUTING:
            if getattr(svc, field) is not None:
                yield (*at, field), f"with http/tcp/tls routes, write {field} in the routes"
        if experiments and svc.fault is None:
            yield (*at, "http"), "an experiment targets this service: write its fault in a route"
        if "versions" in svc.model_fields_set and any(w is not None for w in weights):
            yield (*at, "versions"), "weights route only without http/tcp/tls routes"
        return
    if None in weights:
        yield (*at, "versions"), "every version needs a weight (or write http routes)"
    elif sum(w for w in weights if w is not None) != 100:
        yield (*at, "versions"), f"weights must sum to 100, got {sum(w or 0 for w in weights)}"


def problems(spec: EnvironmentFile) -> Iterator[Problem]:
    """The platform file's: unique object names per kind (its top level and its namespace's
    services), valid extensions, sensitive external hosts in the shorthand form (the egress
    route needs its one port)."""
    yield from _wide_problems(spec, ())
    yield from _entries_problems(spec, (), spec.services, ("services",))
    for i, ext in enumerate(spec.external_services):
        if ext.sensitive and (ext.ports is not None or ext.hosts is not None):
            reason = "a sensitive host takes host, port and protocol (one egress route)"
            yield ("externalServices", i, "sensitive"), reason
        if ext.traffic_policy is not None and ext.hosts is not None and len(ext.hosts) > 1:
            reason = "a trafficPolicy applies to one host (a DestinationRule's)"
            yield ("externalServices", i, "trafficPolicy"), reason


def services_problems(
    services: Sequence[Service], at: source.FieldPath, block: NamespaceWide | None = None
) -> Iterator[Problem]:
    """One namespace's services (at `at`, its `services` list) and its namespace-wide
    objects (`block`, the namespace's entry): unique object names per kind, valid extensions."""
    if block is not None:
        yield from _wide_problems(block, at[:-1])
    yield from _entries_problems(block, at[:-1], services, at)


GATEWAY_API_LISTS = (
    (kinds.GATEWAY_API_GATEWAY, "gatewayApiGateways"),
    (kinds.HTTP_ROUTE, "httpRoutes"),
    (kinds.GRPC_ROUTE, "grpcRoutes"),
    (kinds.TCP_ROUTE, "tcpRoutes"),
    (kinds.TLS_ROUTE, "tlsRoutes"),
    (kinds.REFERENCE_GRANT, "referenceGrants"),
)
"""Gateway API's typed namespace-wide lists, by kind (constructs/mesh_objects.py renders them
as written)."""


NAMESPACE_ONLY_KEYS = (
    "gateways",
    "virtualServices",
    "destinationRules",
    "serviceEntries",
    "sidecars",
    *(key for _, key in GATEWAY_API_LISTS),
)
"""The namespace-wide lists no service holds (constructs/mesh_objects.py: NAMESPACE_ONLY)."""


def _wide_problems(block: NamespaceWide, at: source.FieldPath) -> Iterator[Problem]:
    for key in NAMESPACE_ONLY_KEYS:
        entries = getattr(block, _attribute(key))
        yield from _unique(key, [((*at, key, i), e.name) for i, e in enumerate(entries)])


def _entries_problems(
    top: NamespaceWide | None,
    top_at: source.FieldPath,
    services: Sequence[Service],
    at: source.FieldPath,
) -> Iterator[Problem]:
    for kind, key in NAMED_KINDS:
        attribute = _attribute(key)
        places: list[tuple[source.FieldPath, str]] = []
        if top is not None:
            places += [((*top_at, key, i), e.name) for i, e in enumerate(getattr(top, attribute))]
        for s, svc in enumerate(services):
            entries = getattr(svc, attribute)
            places += [((*at, s, key, i), e.name) for i, e in enumerate(entries)]
        yield from _unique(kind, places)
    extensions: list[tuple[source.FieldPath, Extension]] = []
    if top is not None:
        extensions += [((*top_at, "extensions", i), e) for i, e in enumerate(top.extensions)]
    for s, svc in enumerate(services):
        extensions += [((*at, s, "extensions", i), e) for i, e in enumerate(svc.extensions)]
    for where, extension in extensions:
        yield from _extension_problems(where, extension)
    yield from _unique("extension", [(where, f"{e.kind}/{e.name}") for where, e in extensions])


def _unique(kind: str, places: Sequence[tuple[source.FieldPath, str]]) -> Iterator[Problem]:
    first: dict[str, source.FieldPath] = {}
    for at, name in places:
        if name in first:
            where = source.dotted(first[name])
            yield (*at, "name"), f"duplicate {kind} {name!r} (first at {where})"
        first.setdefault(name, at)


def _extension_problems(at: source.FieldPath, extension: Extension) -> Iterator[Problem]:
    """The extension as it will be emitted, against its kind's schema (first violation)."""
    # Imported here: the schemas (jsonschema, the packaged CRDs) cost a synth only when a
    # file has extensions; the rendered objects are validated in synth's worker anyway.
    from charts_py.validate import crd_schema, schemas

    if schemas.validator(extension.api_version, extension.kind) is None:
        group = extension.api_version.rpartition("/")[0]
        if group in crd_schema.groups():  # a typo in a kind meshops knows the group of
            reason = f"{extension.api_version} serves no kind {extension.kind} (packaged CRDs)"
            yield (*at, "kind"), reason
        return  # else unchecked: a kind without a packaged schema (the API server checks it)
    manifest = {
        "apiVersion": extension.api_version,
        "kind": extension.kind,
        "metadata": {"name": extension.name, "namespace": "default"},
        "spec": extension.spec,
    }
    for pointer, message in schemas.violations(manifest):
        tokens = jsonpointer.tokens(pointer)
        if tokens[:1] == ["metadata"]:
            tokens = ["name"]
        yield (*at, *(int(t) if t.isdigit() else t for t in tokens)), message
        return


def _attribute(key: str) -> str:
    """The model attribute of an environment-file key (`virtualServices` -> virtual_services)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def extension_kinds(
    top: Sequence[Extension], services: Sequence[Service]
) -> tuple[kinds.Kind, ...]:
    """The kinds that these `extensions:` use and the charts do not emit otherwise (a file's
    top level, services of any namespaces), sorted by group and kind."""
    entries = [*top, *(e for svc in services for e in svc.extensions)]
    used = {extension_kind(e) for e in entries}
    return tuple(sorted(used - set(kinds.MESH_KINDS), key=lambda k: (k.group, k.kind)))


def gateway_api_kinds(blocks: Sequence[NamespaceWide]) -> tuple[kinds.Kind, ...]:
    """The Gateway API kinds these blocks' typed lists emit: Argo CD's project admits them
    and the drift job reads them where they are used, and only there."""
    return tuple(
        kind
        for kind, key in GATEWAY_API_LISTS
        if any(getattr(block, _attribute(key)) for block in blocks)
    )


def extension_kind(entry: Extension) -> kinds.Kind:
    """The kind an `extensions:` entry emits: a known one, else a namespaced kind named by
    the entry's `plural`, the packaged schema's, or Kubernetes' guess from the kind."""
    from charts_py.validate import schemas  # see _extension_problems

    plural = entry.plural or schemas.plural(entry.api_version, entry.kind)
    return kinds.extension(entry.api_version, entry.kind, plural)
