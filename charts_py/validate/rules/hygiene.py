"""Object-level hygiene: schemas, forbidden kinds and APIs, sampling, namespaces, ports."""

from __future__ import annotations

import re
from collections.abc import Iterator

from charts_py.validate import schemas
from charts_py.validate.documents import pointer
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import ROOT_NAMESPACE, Scope, items

MAX_SAMPLING = 5.0
INJECTION_LABELS = ("istio-injection", "istio.io/rev")
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
    for doc in scope.of("EnvoyFilter"):
        yield fail(doc, "/kind", "EnvoyFilter patches Envoy internals that change between releases")


@check("alpha-api")
def alpha_api(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.docs:
        group, _, version = doc.api_version.rpartition("/")
        if "alpha" in version and group != "argoproj.io":
            yield fail(doc, "/apiVersion", f"{doc.api_version} is an alpha API")


@check("tracing-sampling")
def tracing_sampling(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of("Telemetry"):
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
    for doc in scope.of("Secret"):
        yield fail(doc, "/kind", "a Secret in git leaks its value to everyone who can read it")


@check("namespace-injection")
def namespace_injection(scope: Scope) -> Iterator[Outcome]:
    for doc in scope.of("Namespace"):
        present = [label for label in INJECTION_LABELS if label in doc.labels]
        # The root namespace may carry neither: istiod and the gateways pick their revision
        # pod by pod, which a namespace label would override (Istio's injection webhooks).
        if len(present) == 1 or (not present and doc.name == ROOT_NAMESPACE):
            continue
        what = "both" if present else "neither"
        message = f"{what} of {' / '.join(INJECTION_LABELS)}: sidecar injection is ambiguous"
        yield fail(doc, "/metadata/labels", message)


@check("service-port-protocol")
def service_port_protocol(scope: Scope) -> Iterator[Outcome]:
    named = re.compile(rf"^({'|'.join(re.escape(p) for p in PORT_PROTOCOLS)})(-.*)?$")
    for doc in scope.of("Service"):
        for i, port in enumerate(items(doc.spec.get("ports"))):
            if not isinstance(port, dict) or port.get("appProtocol"):
                continue
            name = str(port.get("name") or "")
            if not named.match(name):
                message = f"port {name or port.get('port')!r}: Istio cannot tell its protocol"
                yield fail(doc, pointer("spec", "ports", i, "name"), message)
