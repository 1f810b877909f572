"""Workloads: autoscaling targets, disruption budgets, resources, security context, the
proxy's UID, and the pods that DestinationRule subsets select."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from charts_py.jsonpointer import pointer
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.findings import Severity
from charts_py.validate.rules.base import Outcome, check, fail, ok
from charts_py.validate.scope import (
    Scope,
    containers,
    destinations,
    dig,
    items,
    mapping,
    namespace,
    pod_labels,
    pod_spec,
    resolve,
    selects,
)

ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}


def _target(scope: Scope, hpa: Document) -> Document | None:
    return scope.scale_target(hpa)


def _scaler(scope: Scope, workload: Document) -> Document | None:
    return scope.scaler(workload)


@check("hpa-target")
def hpa_target(scope: Scope) -> Iterator[Outcome]:
    for hpa in scope.of(gk.HPA):
        ref = mapping(hpa.spec.get("scaleTargetRef"))
        theirs = any(
            e.namespace == namespace(hpa) and e.name == ref.get("name")
            for e in scope.outside(str(ref.get("kind")))
        )  # a Deployment someone else deploys (config/installation.py)
        if _target(scope, hpa) is None and not theirs:
            message = (
                f"scales {ref.get('kind')}/{ref.get('name')}, which is not in {namespace(hpa)}"
            )
            yield fail(hpa, "/spec/scaleTargetRef", message)


@check("hpa-replicas")
def hpa_replicas(scope: Scope) -> Iterator[Outcome]:
    for hpa in scope.of(gk.HPA):
        target = _target(scope, hpa)
        if target is not None and "replicas" in target.spec:
            message = f"HorizontalPodAutoscaler {hpa.name} owns the replica count"
            yield fail(target, "/spec/replicas", f"{message}; every sync would reset it")


@check("pdb-selects-one")
def pdb_selects_one(scope: Scope) -> Iterator[Outcome]:
    for pdb in scope.of(gk.PDB):
        hits = [w.name for w in scope.selected_workloads(pdb.spec.get("selector"), namespace(pdb))]
        if len(hits) != 1:
            shown = ", ".join(hits) or "none"
            yield fail(pdb, "/spec/selector", f"selects {len(hits)} workloads ({shown}), not one")


@check("autoscaling")
def autoscaling(scope: Scope) -> Iterator[Outcome]:
    for workload in scope.of(gk.DEPLOYMENT, gk.STATEFUL_SET):
        hpa = _scaler(scope, workload)
        if hpa is None:
            yield fail(workload, "/spec", "no HorizontalPodAutoscaler scales it")
        else:
            message = f"HorizontalPodAutoscaler {hpa.name}"
            yield ok(workload, "/spec", message, evidence=hpa, at="/spec/scaleTargetRef")


@check("disruption-budget")
def disruption_budget(scope: Scope) -> Iterator[Outcome]:
    for workload in scope.of(gk.DEPLOYMENT, gk.STATEFUL_SET):
        budgets = scope.disruption_budgets(workload)
        if not budgets:
            at = "/spec/template/metadata/labels"
            yield fail(workload, at, "no PodDisruptionBudget selects its pods")
        else:
            message = f"PodDisruptionBudget {budgets[0].name}"
            yield ok(workload, "/spec", message, evidence=budgets[0], at="/spec/selector")


@check("workload-resources")
def workload_resources(scope: Scope) -> Iterator[Outcome]:
    for workload in scope.of(*gk.POD_TEMPLATES):
        for at, container in containers(workload):
            resources = mapping(container.get("resources"))
            requests, limits = mapping(resources.get("requests")), mapping(resources.get("limits"))
            missing = [f"requests.{r}" for r in ("cpu", "memory") if r not in requests]
            missing += ["limits.memory"] if "memory" not in limits else []
            name = container.get("name")
            if missing:
                yield fail(
                    workload, f"{at}/resources", f"container {name}: no {', '.join(missing)}"
                )
            else:
                yield ok(
                    workload, f"{at}/resources", f"container {name}: requests and memory limit"
                )


@check("workload-security")
def workload_security(scope: Scope) -> Iterator[Outcome]:
    for workload in scope.of(*gk.POD_TEMPLATES):
        spec_at, pod = pod_spec(workload)
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field):
                yield fail(workload, f"{spec_at}/{field}", f"{field} shares the node's")
        for at, container in containers(workload):
            problems = _insecure(mapping(pod.get("securityContext")), container)
            name = container.get("name")
            if problems:
                yield fail(
                    workload, f"{at}/securityContext", f"container {name}: {'; '.join(problems)}"
                )
            else:
                yield ok(workload, f"{at}/securityContext", f"container {name}: restricted")


def _insecure(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    context = mapping(container.get("securityContext"))
    problems = []
    if context.get("privileged"):
        problems.append("privileged")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if not context.get("runAsNonRoot", pod.get("runAsNonRoot")):
        problems.append("may run as root (runAsNonRoot is not true)")
    added = {str(c) for c in items(dig(context, "capabilities", "add"))} - ALLOWED_CAPABILITIES
    if added:
        problems.append(f"adds capabilities {sorted(added)}")
    return problems


PROXY_UID = 1337
"""The sidecar's user: Istio's iptables rules let this UID's traffic out uncaptured."""


@check("proxy-uid")
def proxy_uid(scope: Scope) -> Iterator[Outcome]:
    for workload in scope.of(*gk.POD_TEMPLATES):
        if "istio" in pod_labels(workload):
            continue  # Istio's own gateways and istiod run as the proxy user on purpose
        spec_at, pod = pod_spec(workload)
        if dig(pod, "securityContext", "runAsUser") == PROXY_UID:
            yield fail(workload, f"{spec_at}/securityContext/runAsUser", _UID_MESSAGE)
        for at, container in containers(workload):
            if container.get("name") == "istio-proxy":
                continue
            if dig(container, "securityContext", "runAsUser") == PROXY_UID:
                yield fail(workload, f"{at}/securityContext/runAsUser", _UID_MESSAGE)


_UID_MESSAGE = f"runs as UID {PROXY_UID}, the sidecar's: its traffic bypasses the proxy"


def _routed_subsets(scope: Scope) -> set[tuple[str, object]]:
    """(host, subset) of every destination a VirtualService routes (or mirrors) to."""
    out: set[tuple[str, object]] = set()
    for vs in scope.of(gk.VIRTUAL_SERVICE):
        for _, dest in destinations(vs):
            host = resolve(str(dest.get("host", "")), namespace(vs))
            out.add((host, dest.get("subset")))
    return out


TOPOLOGY_LABELS = frozenset(
    (
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.istio.io/subzone",
        "topology.istio.io/cluster",
        "topology.istio.io/network",
        "kubernetes.io/hostname",
    )
)
"""Labels istiod adds to every endpoint from its node, cluster and network (pilot's
AugmentLabels): a subset may select by them, and no manifest shows their values. An empty
value matches no endpoint."""


@check("subset-selects-pods")
def subset_selects_pods(scope: Scope) -> Iterator[Outcome]:
    """Judged where the manifests hold the host's Service: against its workloads there, or,
    with none there, assuming there are none elsewhere (a warning that says so)."""
    routed = _routed_subsets(scope)
    for rule in scope.of(gk.DESTINATION_RULE):
        host = resolve(str(rule.spec.get("host", "")), namespace(rule))
        if scope.service(host) is None:
            continue
        behind = scope.pods_behind(host)
        assumed = "" if behind else f"the workloads behind {host} are all in these manifests"
        for i, subset in enumerate(items(rule.spec.get("subsets"))):
            labels = mapping(subset.get("labels")) if isinstance(subset, dict) else {}
            own = {k: v for k, v in labels.items() if k not in TOPOLOGY_LABELS or not v}
            if not any(selects({"matchLabels": own}, pods) for pods in behind):
                name = subset.get("name") if isinstance(subset, dict) else i
                message = f"subset {name} {labels} selects no pods behind {host} (503 UH)"
                at = pointer("spec", "subsets", i, "labels")
                if (host, name) in routed:
                    yield fail(rule, at, message, assuming=assumed)
                else:  # no route sends requests there: a trap, not yet a failure
                    unused = f"{message}; no VirtualService here routes to it"
                    yield fail(rule, at, unused, assuming=assumed, at_most=Severity.WARNING)
