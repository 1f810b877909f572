"""Identity of one Kubernetes object: the one way meshops keys, names and files an object.

The legacy API group is spelled as Kubernetes spells it, `""` (RBAC rules, discovery,
Argo CD resource lists); `core` is only how a dist/ file name or a message shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CORE_GROUP = ""
"""The legacy group (`apiVersion: v1`), as the Kubernetes API spells it."""

CORE_GROUP_LABEL = "core"
"""How file names and messages show the legacy group (the dist file-name contract)."""

Key = tuple[str, str, str, str]
"""(group, kind, namespace, name): identity across API versions of one group."""


def group_of(api_version: str) -> str:
    """The API group of an apiVersion: `apps/v1` -> `apps`, `v1` -> `""`."""
    return api_version.rpartition("/")[0]


def group_label(group: str) -> str:
    """The group as file names and messages show it: `core` for the legacy group."""
    return group or CORE_GROUP_LABEL


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identity of an object in one cluster (namespace `""` for cluster-scoped objects)."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    @property
    def group_kind(self) -> tuple[str, str]:
        return self.group, self.kind

    @property
    def key(self) -> Key:
        """Identity across API versions of the same group (git v1beta1 == live v1)."""
        return self.group, self.kind, self.namespace, self.name

    @property
    def identity(self) -> str:
        """`Kind/namespace/name` (or `Kind/name`), for messages that name a path-like id."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)

    def file_name(self) -> str:
        """`<Kind>.<group|core>.<namespace|_cluster>.<name>.yaml` (the dist contract)."""
        parts = (self.kind, group_label(self.group), self.namespace or "_cluster", self.name)
        return ".".join(parts) + ".yaml"

    def to_json(self) -> dict[str, str]:
        """The identity keys of the JSON reports (drift, validate, audit), in their order."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        """The identity of a manifest or live object (`metadata.name` must be set)."""
        meta = obj.get("metadata") or {}
        return cls(obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])
