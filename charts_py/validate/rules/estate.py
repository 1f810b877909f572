"""Multi-primary: every primary cluster of an environment enforces the same policy."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from charts_py.contract import CLUSTER
from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.rules.base import Outcome, estate_check, fail, ok
from charts_py.validate.scope import Scope, mapping, namespace

POLICY_KINDS = (
    gk.PEER_AUTHENTICATION,
    gk.AUTHORIZATION_POLICY,
    gk.REQUEST_AUTHENTICATION,
    gk.SIDECAR,
    gk.DESTINATION_RULE,
    gk.VIRTUAL_SERVICE,
    gk.SERVICE_ENTRY,
    gk.TELEMETRY,
    gk.GATEWAY,
    gk.ENVOY_FILTER,
)


@estate_check("policy-identical")
def policy_identical(scopes: Sequence[Scope]) -> Iterator[Outcome]:
    by_env: dict[str, list[Scope]] = {}
    for scope in scopes:
        if scope.environment and scope.name:
            by_env.setdefault(scope.environment, []).append(scope)
    for clusters in by_env.values():
        if len(clusters) > 1:
            yield from _compare(clusters)


def _key(doc: Document) -> tuple[str, str, str, str]:
    return (*doc.group_kind, namespace(doc), doc.name)


def _compare(clusters: list[Scope]) -> Iterator[Outcome]:
    tables = [{_key(d): d for d in c.of(*POLICY_KINDS)} for c in clusters]
    for key in sorted(set().union(*tables)):
        present = [(c, t[key]) for c, t in zip(clusters, tables, strict=True) if key in t]
        reference_cluster, reference = present[0]
        for cluster, _ in zip(clusters, tables, strict=True):
            if all(c is not cluster for c, _ in present):
                message = f"missing in cluster {cluster.name} (present in {reference_cluster.name})"
                yield fail(reference, "/metadata/name", message)
        for _, doc in present[1:]:
            where = _difference(_normalised(reference.obj), _normalised(doc.obj), "")
            if where is not None:
                message = f"differs from cluster {reference_cluster.name} at {where or '/'}"
                yield fail(doc, where or "/", message)
            else:
                yield ok(doc, "/spec", f"identical to cluster {reference_cluster.name}")


def _normalised(obj: dict[str, Any]) -> dict[str, Any]:
    meta = dict(mapping(obj.get("metadata")))
    meta["labels"] = {k: v for k, v in mapping(meta.get("labels")).items() if k != CLUSTER}
    return {**obj, "metadata": meta}


def _difference(a: object, b: object, at: str) -> str | None:
    """The pointer of the first difference between `a` and `b`, or None if they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{at}{pointer(key)}"
            found = _difference(a[key], b[key], f"{at}{pointer(key)}")
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{at}/{i}")
            if found is not None:
                return found
        return None
    return None if a == b else at
