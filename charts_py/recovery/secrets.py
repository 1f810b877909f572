"""Secrets a set of objects names: what a restore cannot bring back and must be provided.

A backup never holds a Secret (values in git history cannot be taken back), so whoever restores
needs the list: Secrets meshops labelled (from the backup manifest) and Secrets the restored
objects refer to by name. The walk is by field name rather than by kind so that references in
CRDs (Istio `credentialName`) and in every pod template (`secretName`, `secretRef`,
`secretKeyRef`, `imagePullSecrets`) are found alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

NAME_FIELDS = ("secretName", "credentialName")  # a string naming a Secret
REF_FIELDS = ("secretRef", "secretKeyRef", "secret")  # a map whose `name` names a Secret


@dataclass(frozen=True, order=True)
class Needed:
    """A Secret that must exist for the restored objects to work, and why."""

    namespace: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"Secret {self.namespace + '/' if self.namespace else ''}{self.name} ({self.reason})"


def referenced(objects: Iterable[dict[str, Any]]) -> list[Needed]:
    """Every Secret referenced by name in `objects`, once each (first reference wins)."""
    found: dict[tuple[str, str], Needed] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace", "")
        who = f"{obj.get('kind')} {namespace + '/' if namespace else ''}{meta.get('name')}"
        for pointer, name in _names(obj, ""):
            found.setdefault((namespace, name), Needed(namespace, name, f"{who} {pointer}"))
    return sorted(found.values())


def merge(*groups: Iterable[Needed]) -> list[Needed]:
    """One entry per Secret, the first reason kept."""
    found: dict[tuple[str, str], Needed] = {}
    for group in groups:
        for needed in group:
            found.setdefault((needed.namespace, needed.name), needed)
    return sorted(found.values())


def _names(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """(JSON Pointer, Secret name) of every reference under `node`."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _names(item, f"{pointer}/{i}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        here = f"{pointer}/{key}"
        if key in NAME_FIELDS and isinstance(value, str) and value:
            yield here, value
        elif key in REF_FIELDS and isinstance(value, dict) and isinstance(value.get("name"), str):
            yield f"{here}/name", value["name"]
        elif key == "imagePullSecrets" and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    yield f"{here}/{i}/name", item["name"]
        else:
            yield from _names(value, here)
