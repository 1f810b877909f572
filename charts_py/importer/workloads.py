"""Services and the Deployments/StatefulSets behind them, as services whose pods someone
else deploys (`workload:`): meshops meshes them and never takes over the objects themselves
(`service: theirs`, no Deployment), so adopting a mesh leaves every workload as it runs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from charts_py.config import model

WORKLOAD_KINDS = frozenset({("apps", "Deployment"), ("apps", "StatefulSet")})
"""The workloads whose pods a Service selects."""

HELM_RELEASE = "meta.helm.sh/release-name"
"""The annotation Helm 3 writes on every object of a release."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A Service with the workloads whose pods it selects: one `services:` entry."""

    service: dict[str, Any]
    workloads: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        return str(self.service["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.service["metadata"]["namespace"])


def meshable(service: dict[str, Any]) -> str | None:
    """Why a Service cannot be a `services:` entry, or None when it can."""
    spec = service.get("spec") or {}
    name = str(service["metadata"]["name"])
    if spec.get("type") == "ExternalName":
        return "an ExternalName Service selects no pods"
    selector = spec.get("selector") or {}
    if not selector:
        return "a Service without a selector selects no pods meshops could mesh"
    if not re.fullmatch(model.DNS_LABEL, name) or len(name) > 52:
        return f"service name {name!r} is longer than 52 characters or not a DNS label"
    if not all(_label(k, v) for k, v in selector.items()):
        return "its selector is not made of label keys and values"
    return None


def _label(key: object, value: object) -> bool:
    return (
        isinstance(key, str)
        and isinstance(value, str)
        and re.fullmatch(model.LABEL_KEY, key) is not None
        and re.fullmatch(model.LABEL_VALUE, value) is not None
    )


def pair(services: Sequence[dict[str, Any]], workloads: Sequence[dict[str, Any]]) -> list[Workload]:
    """Each meshable Service with the workloads of its namespace whose pods it selects (in
    their given order), found through an index by namespace and pod label: an estate's
    thousands of Services each look at the few workloads that share a label with them."""
    by_label: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for at, workload in enumerate(workloads):
        ns = workload["metadata"]["namespace"]
        for key, value in _pod_labels(workload).items():
            if isinstance(value, str):  # a selector's values are strings (meshable)
                by_label[(ns, key, value)].append(at)
    out = []
    for service in services:
        selector = (service.get("spec") or {}).get("selector") or {}
        ns = service["metadata"]["namespace"]
        first = next(iter(selector.items()), None)  # meshable: a selector has one at least
        candidates = by_label.get((ns, *first), []) if first is not None else []
        mine = tuple(workloads[at] for at in candidates if _selects(selector, workloads[at]))
        out.append(Workload(service=service, workloads=mine))
    return out


def _pod_labels(workload: dict[str, Any]) -> dict[str, Any]:
    template = (workload.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


def _selects(selector: dict[str, Any], workload: dict[str, Any]) -> bool:
    found = _pod_labels(workload)
    return all(found.get(k) == v for k, v in selector.items())


def entry(found: Workload) -> dict[str, Any]:
    """The `services:` entry: pods deployed by others, their Service theirs too, no
    DestinationRule or VirtualService of meshops's own unless the mesh had them (placement
    adds those)."""
    spec = found.service.get("spec") or {}
    workload: dict[str, Any] = {
        "deployedBy": deployed_by(found),
        "selector": dict(spec["selector"]),
    }
    account = _account(found.workloads)
    if account is not None and account != found.name:
        workload["serviceAccount"] = account
    workload["service"] = "theirs"
    out: dict[str, Any] = {"name": found.name, "workload": workload}
    port = _port(spec.get("ports") or [])
    if port is not None and port != model.Service.model_fields["port"].default:
        out["port"] = port
    out["destinationRule"] = False
    out["http"] = []
    return out


def deployed_by(found: Workload) -> str:
    """Who deploys the pods, for the generated docs: a Helm release, else the workloads."""
    for obj in (*found.workloads, found.service):
        release = ((obj.get("metadata") or {}).get("annotations") or {}).get(HELM_RELEASE)
        if release:
            return f"helm release {release}"
    names = ", ".join(f"{w['kind']} {w['metadata']['name']}" for w in found.workloads)
    return f"its own manifests ({names})" if names else "its own manifests (no workload found)"


def _account(workloads: Iterable[dict[str, Any]]) -> str | None:
    """The pods' ServiceAccount (their mesh identity): `default` when a pod names none."""
    accounts = {
        (((w.get("spec") or {}).get("template") or {}).get("spec") or {}).get("serviceAccountName")
        or "default"
        for w in workloads
    }
    if len(accounts) != 1:
        return None  # none found, or several: the name stays the default
    account = accounts.pop()
    valid = re.fullmatch(model.DNS_LABEL, account) and len(account) <= 52
    return account if valid else None


def _port(ports: list[dict[str, Any]]) -> int | None:
    """The Service's first port (meshops's routes name none for pods someone else deploys)."""
    return int(ports[0]["port"]) if ports and "port" in ports[0] else None
