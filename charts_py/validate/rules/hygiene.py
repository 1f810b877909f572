"""Object-level hygiene: schemas, forbidden kinds and APIs, sampling, namespaces, ports,
Istio annotation names."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from charts_py.jsonpointer import escape, pointer
from charts_py.naming import MESH_ROOT
from charts_py.validate import crd_schema, schemas
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.istio_annotations import ANNOTATIONS
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import Scope, dig, items, mapping

MAX_SAMPLING = 5.0
INJECTION_LABELS = ("istio-injection", "istio.io/rev")
DATAPLANE_MODE = "istio.io/dataplane-mode"
PORT_PROTOCOLS = (
    "http",
    "http2",
    "https",
    "grpc",
    "grpc-web",
    "tcp",
    "tls",
    "mongo",
    "mysql",
    "redis",
    "udp",
)
"""Istio's protocol selection by port name: `<protocol>` or `<protocol>-<suffix>`."""


@check("schema")
def schema(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.docs:
        for field in ("apiVersion", "kind"):
            if not doc.obj.get(field):
                yield fail(doc, f"/{field}", f"{field} is required")
        if not doc.name:
            yield fail(doc, "/metadata/name", "metadata.name is required")
        for at, message in schemas.violations(doc.obj):
            yield fail(doc, at, message)


@check("schema-unknown-kind")
def schema_unknown_kind(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.docs:
        if doc.kind and doc.api_version and schemas.validator(doc.api_version, doc.kind) is None:
            message = f"no schema for {doc.api_version} {doc.kind}: its fields were not checked"
            yield fail(doc, "/kind", message)


@check("envoy-filter")
def envoy_filter(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of(gk.ENVOY_FILTER):
        yield fail(doc, "/kind", "EnvoyFilter patches Envoy internals that change between releases")


@check("alpha-api")
def alpha_api(scope: Scope) -> Iterator[Outcome]:
    """Only APIs that are alpha in substance: Istio serves networking.istio.io/v1alpha3 with
    the schema of its v1 (the same API under an old name), and Argo CD's v1alpha1 is GA."""
    for doc in scope.docs:
        group, _, version = doc.api_version.rpartition("/")
        if "alpha" not in version or group == "argoproj.io":
            continue
        if crd_schema.alias_of(doc.api_version, doc.kind) is not None:
            continue
        stable = crd_schema.stable_versions(doc.api_version, doc.kind)
        if stable:
            instead = f"use {stable[0]}, which serves {doc.kind} as a stable API"
        else:
            instead = f"no stable version of {doc.kind} exists: expect changes on upgrades"
        yield fail(doc, "/apiVersion", f"{doc.api_version} is an alpha API; {instead}")


@check("tracing-sampling")
def tracing_sampling(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of(gk.TELEMETRY):
        for i, tracing in enumerate(items(doc.spec.get("tracing"))):
            rate = tracing.get("randomSamplingPercentage") if isinstance(tracing, dict) else None
            if not isinstance(rate, int | float):
                continue
            at = pointer("spec", "tracing", i, "randomSamplingPercentage")
            if rate > MAX_SAMPLING:
                yield fail(doc, at, f"samples {rate:g}% of requests (at most {MAX_SAMPLING:g}%)")
            else:
                yield ok(doc, at, f"samples {rate:g}%")


@check("no-secrets")
def no_secrets(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of(gk.SECRET):
        yield fail(doc, "/kind", "a Secret in git leaks its value to everyone who can read it")


MAX_CONFIGMAP_DATA = 1024 * 1024
"""Bytes of keys and values, `data` and decoded `binaryData` together, that the API server
accepts in one ConfigMap (Kubernetes' ValidateConfigMap, corev1.MaxSecretSize): a larger
one fails to sync in every cluster."""


@check("configmap-size")
def configmap_size(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of(gk.CONFIG_MAP):
        text = mapping(doc.obj.get("data"))
        binary = mapping(doc.obj.get("binaryData"))
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in text.items())
        size += sum(len(k.encode()) + _decoded_length(v) for k, v in binary.items())
        if size > MAX_CONFIGMAP_DATA:
            message = f"holds {size:,} bytes of data; the API server accepts at most 1 MiB"
            yield fail(doc, "/data" if text else "/binaryData", message)


def _decoded_length(value: object) -> int:
    try:
        return len(base64.b64decode(str(value)))
    except binascii.Error:  # not base64: the schema rule reports it
        return 0


@check("namespace-injection")
def namespace_injection(scope: Scope) -> Iterator[Outcome]:
    """Istio's reading (IST0123): `istio-injection`, plus `istio.io/rev` and
    `istio.io/dataplane-mode` unless `istio-injection` is set to something other than
    `enabled` (then it wins: `disabled` with a revision label is a clear choice). Two of
    them (a sidecar and ambient, or two injectors) is ambiguous; neither is outside the mesh."""
    for doc in scope.of(gk.NAMESPACE):
        if doc.name == MESH_ROOT:
            continue  # Istio's own namespace: its labels are the installation's
        labels = doc.labels
        found = [INJECTION_LABELS[0]] if INJECTION_LABELS[0] in labels else []
        if labels.get(INJECTION_LABELS[0], "enabled") == "enabled":
            found += [k for k in (*INJECTION_LABELS[1:], DATAPLANE_MODE) if k in labels]
        if len(found) > 1:
            shown = " and ".join(f"{k}={labels[k]}" for k in found)
            yield fail(
                doc, "/metadata/labels", f"both {shown}: which data plane its pods get is ambiguous"
            )


@check("service-port-protocol")
def service_port_protocol(scope: Scope) -> Iterator[Outcome]:
    named = re.compile(rf"^({'|'.join(re.escape(p) for p in PORT_PROTOCOLS)})(-.*)?$")
    for doc in scope.of(gk.SERVICE):
        for i, port in enumerate(items(doc.spec.get("ports"))):
            if not isinstance(port, dict) or port.get("appProtocol"):
                continue
            name = str(port.get("name") or "")
            if not named.match(name):
                message = f"port {name or port.get('port')!r}: Istio cannot tell its protocol"
                yield fail(doc, pointer("spec", "ports", i, "name"), message)


@check("istio-annotation")
def istio_annotation(scope: Scope) -> Iterator[Outcome]:
    """Like IST0108 (Istio's list: validate/istio_annotations.py), and pod templates too,
    where sidecar annotations actually go."""
    for doc in scope.docs:
        places: list[tuple[str, dict[str, object]]] = [
            ("/metadata/annotations", dict(doc.annotations))
        ]
        if doc.group_kind in gk.POD_TEMPLATES:
            places.append(_template_annotations(doc))
        for at, found in places:
            for key in sorted(found):
                if key.partition("/")[0].endswith("istio.io") and key not in ANNOTATIONS:
                    message = f"{key} is not an Istio annotation: Istio ignores it"
                    yield fail(doc, f"{at}/{escape(key)}", message)


def _template_annotations(doc: Document) -> tuple[str, dict[str, object]]:
    """(pointer, annotations) of an object's pod template."""
    keys: tuple[str, ...] = ("spec", "template", "metadata", "annotations")
    if doc.group_kind == gk.CRON_JOB:
        keys = ("spec", "jobTemplate", *keys)
    return pointer(*keys), mapping(dig(doc.obj, *keys))
