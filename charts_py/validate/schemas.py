"""Every object against the OpenAPI schema of its kind: built-ins and packaged CRDs.

Built-in kinds use the JSON Schemas that the `kubernetes-validate` package ships offline,
generated from Kubernetes' own OpenAPI document, in their *strict* flavour (unknown fields
rejected: the API server would prune them silently). The version is pinned to the one the
project targets (Kubernetes 1.34, as the `kubernetes` client pin). Custom resources use
crd_schema.py.

Kubernetes' OpenAPI v2 document carries no `enum`s, so the few enumerations a mesh manifest
commonly gets wrong are added from the API reference (ENUMS below); everything else is the
upstream schema unchanged.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import referencing

from charts_py.jsonpointer import escape
from charts_py.validate import crd_schema, schema_keys

KUBERNETES_VERSION = "1.34.0"
_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"
_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"

_PROTOCOLS = ["TCP", "UDP", "SCTP"]
ENUMS: dict[tuple[str, str], list[str]] = {
    ("io.k8s.api.core.v1.ServicePort", "protocol"): _PROTOCOLS,
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): _PROTOCOLS,
    ("io.k8s.api.core.v1.ServiceSpec", "type"): [
        "ClusterIP",
        "NodePort",
        "LoadBalancer",
        "ExternalName",
    ],
    ("io.k8s.api.core.v1.ServiceSpec", "sessionAffinity"): ["ClientIP", "None"],
    ("io.k8s.api.core.v1.ServiceSpec", "externalTrafficPolicy"): ["Cluster", "Local"],
    ("io.k8s.api.core.v1.ServiceSpec", "internalTrafficPolicy"): ["Cluster", "Local"],
    ("io.k8s.api.core.v1.Container", "imagePullPolicy"): ["Always", "Never", "IfNotPresent"],
    ("io.k8s.api.core.v1.PodSpec", "restartPolicy"): ["Always", "OnFailure", "Never"],
    ("io.k8s.api.core.v1.PodSpec", "dnsPolicy"): [
        "ClusterFirst",
        "ClusterFirstWithHostNet",
        "Default",
        "None",
    ],
    ("io.k8s.api.core.v1.SeccompProfile", "type"): ["Localhost", "RuntimeDefault", "Unconfined"],
    ("io.k8s.api.apps.v1.DeploymentStrategy", "type"): ["Recreate", "RollingUpdate"],
    ("io.k8s.api.autoscaling.v2.MetricSpec", "type"): [
        "ContainerResource",
        "External",
        "Object",
        "Pods",
        "Resource",
    ],
    ("io.k8s.api.autoscaling.v2.MetricTarget", "type"): ["Utilization", "Value", "AverageValue"],
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "unhealthyPodEvictionPolicy"): [
        "IfHealthyBudget",
        "AlwaysAllow",
    ],
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "operator"): [
        "In",
        "NotIn",
        "Exists",
        "DoesNotExist",
    ],
}


def _read(name: str) -> Any:
    entry = resources.files("kubernetes_validate") / _DIR / name
    return json.loads(entry.read_text(encoding="utf-8"))


@functools.cache
def _registry() -> referencing.Registry[Any]:
    definitions = copy.deepcopy(_read("_definitions.json"))
    for (definition, prop), values in ENUMS.items():
        # null is allowed wherever the upstream schema allows it: it means "unset".
        definitions["$defs"][definition]["properties"][prop]["enum"] = [*values, None]
    resource: referencing.Resource[Any] = referencing.Resource.from_contents(definitions)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        _DEFINITIONS_URI, resource
    )
    return registry


def _file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's naming: `deployment-apps-v1.json`, `service-v1.json`."""
    group, _, version = api_version.rpartition("/")
    prefix = f"{group.split('.', 1)[0]}-" if group else ""
    return f"{kind.lower()}-{prefix}{version}.json"


@functools.cache
def _builtin(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    if not re.fullmatch(r"[A-Za-z0-9.-]*/?v[0-9]+[a-z0-9]*", api_version) or not kind.isalnum():
        return None
    try:
        schema = _read(_file_name(api_version, kind))
    except OSError:  # no such kind (or a name too long to be a file: no such kind either)
        return None
    group, _, version = api_version.rpartition("/")
    gvks = schema.get("x-kubernetes-group-version-kind", [])
    if {"group": group, "kind": kind, "version": version} not in gvks:
        return None  # e.g. `apps.example.com/v1 Deployment` is not apps/v1
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The validator of a kind: a packaged CRD, else a Kubernetes built-in, else None."""
    crd = crd_schema.validator(api_version, kind)
    return crd if crd is not None else _builtin(api_version, kind)


def plural(api_version: str, kind: str) -> str | None:
    """The resource name of a kind with a packaged CRD, else None (built-ins have their own
    entries in kinds.py)."""
    return crd_schema.plural(api_version, kind)


_PASSED: set[str] = set()
"""The keys (schema_keys.key) of objects that passed their schema."""
_PASSED_MAX = 50_000
_AHEAD: dict[int, tuple[dict[str, Any], tuple[tuple[str, str], ...]]] = {}
"""`check_ahead`'s answers by object identity, each with its object (kept alive, so that
its id is not reused)."""


def check_ahead(obj: dict[str, Any]) -> None:
    """`violations(obj)` now, kept for this very object: when the rule `schema` asks later
    it gets the answer without computing the key again. Only for objects that are not
    changed afterwards (render/checks.py's worker: its copies of the rendered objects)."""
    _AHEAD[id(obj)] = (obj, violations(obj))


def violations(obj: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(JSON Pointer, message) per violation, unknown fields pointed at one by one.

    Objects that differ only in strings their schema does not read (names, hosts: the same
    policy for every service of an estate) are validated once (schema_keys.py): a passing
    one vouches for the others. One that fails is validated itself, for messages that
    quote its own values.
    """
    ahead = _AHEAD.get(id(obj))
    if ahead is not None and ahead[0] is obj:
        return ahead[1]
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    what = _reads(api_version, kind)
    if what is None:
        return ()
    key = f"{api_version} {kind} {schema_keys.key(obj, what)}"
    if key in _PASSED:
        return ()
    found = tuple(_violations(obj))
    if not found and len(_PASSED) < _PASSED_MAX:
        _PASSED.add(key)
    return found


def prepare(api_version: str, kind: str) -> None:
    """Build the validator of a kind and find what its schema reads, ahead of its objects
    (render/checks.py's worker does it while the objects are being rendered)."""
    _reads(api_version, kind)


@functools.cache
def _reads(api_version: str, kind: str) -> schema_keys.Reads | None:
    """What the schema of a kind reads of strings; None without a schema."""
    check = validator(api_version, kind)
    if check is None:
        return None
    base = check.schema.get("$id", "") if isinstance(check.schema, dict) else ""
    return schema_keys.reads(check.schema, _resolving(_registry().resolver(base)))


def _resolving(resolver: referencing._core.Resolver[Any]) -> schema_keys.Resolve:
    def resolve(ref: str) -> tuple[Any, schema_keys.Resolve]:
        found = resolver.lookup(ref)
        return found.contents, _resolving(found.resolver)

    return resolve


def _violations(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    check = validator(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if check is None:
        return
    for error in sorted(check.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        at = "".join(f"/{escape(p)}" for p in error.absolute_path)
        yield from _explained(error, at)


def _explained(error: jsonschema.ValidationError, at: str) -> Iterator[tuple[str, str]]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        declared = set(schema.get("properties", {}))
        for key in sorted(set(error.instance) - declared):
            hint = _closest(key, declared)
            yield f"{at}/{escape(key)}", f"unknown field {key!r}{hint}"
        return
    if error.validator == "required":
        yield at or "/", error.message.replace("is a required property", "is required")
        return
    if error.validator == "enum" and isinstance(error.validator_value, list):
        allowed = ", ".join(repr(v) for v in error.validator_value if v is not None)
        yield at, f"{error.instance!r} is not one of {allowed}"
        return
    yield at or "/", error.message


def _closest(key: str, declared: set[str]) -> str:
    match = difflib.get_close_matches(key, sorted(declared), n=1)
    return f" (did you mean {match[0]!r}?)" if match else " (the API server would drop it)"
