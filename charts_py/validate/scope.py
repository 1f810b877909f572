"""One cluster's worth of objects, indexed the way mesh rules look things up.

Istio resolves references inside one cluster: a VirtualService's hosts, a DestinationRule's
subsets, a Sidecar's egress hosts. So rules see one `Scope` at a time: the objects of one
`meshops.dev/cluster` (generated manifests carry it), or every object handed over (manifests
written by hand). Lookups follow Istio's conventions, each noted where it is implemented.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from charts_py import duration as durations
from charts_py.config.installation import ASSUMED, External, Installation
from charts_py.config.model import DriftWaiver
from charts_py.contract import CLUSTER, ENVIRONMENT, SYNC_WAVE
from charts_py.jsonpointer import pointer
from charts_py.naming import MESH_ROOT
from charts_py.objectref import group_of
from charts_py.validate import groupkinds as gk
from charts_py.validate.documents import Document
from charts_py.validate.groupkinds import GroupKind


@dataclass(frozen=True, eq=False, kw_only=True)
class Scope:
    """The objects of one cluster (`name` is `<environment>/<cluster>`, or empty), and what
    Istio's charts and the operator installed there (config/installation.py)."""

    name: str
    environment: str
    docs: Sequence[Document]
    installation: Installation = ASSUMED
    waivers: Sequence[DriftWaiver] = ()
    """The environment's drift waivers (`drift.waivers`), which rule `drift-waiver` checks."""

    @functools.cached_property
    def _by_kind(self) -> dict[GroupKind, list[Document]]:
        out: dict[GroupKind, list[Document]] = {}
        for doc in self.docs:
            out.setdefault(doc.group_kind, []).append(doc)
        return out

    def of(self, *kinds: GroupKind) -> list[Document]:
        """The objects of these kinds (any version of their group), in input order."""
        return [doc for kind in kinds for doc in self._by_kind.get(kind, [])]

    @functools.cached_property
    def _by_name(self) -> dict[tuple[GroupKind, str, str], Document]:
        out: dict[tuple[GroupKind, str, str], Document] = {}
        for doc in self.docs:
            out.setdefault((doc.group_kind, namespace(doc), doc.name), doc)
        return out

    def find(self, kind: GroupKind, ns: str, name: str) -> Document | None:
        """The first object of `kind` named `name` in namespace `ns` (an index, not a scan)."""
        return self._by_name.get((kind, ns, name))

    def scale_target(self, hpa: Document) -> Document | None:
        """The object an HPA's scaleTargetRef names (apiVersion and kind), in its namespace."""
        ref = mapping(hpa.spec.get("scaleTargetRef"))
        kind = GroupKind(group_of(str(ref.get("apiVersion", ""))), str(ref.get("kind", "")))
        return self.find(kind, namespace(hpa), str(ref.get("name", "")))

    @functools.cached_property
    def _scalers(self) -> dict[int, Document]:
        out: dict[int, Document] = {}
        for hpa in self.of(gk.HPA):
            target = self.scale_target(hpa)
            if target is not None:
                out.setdefault(id(target), hpa)
        return out

    def scaler(self, workload: Document) -> Document | None:
        """The (first) HPA that scales `workload`."""
        return self._scalers.get(id(workload))

    @functools.cached_property
    def running(self) -> list[Document]:
        """What runs pods that selectors find: workloads, and bare Pods (a Pod no controller
        owns; one with ownerReferences is a copy of its workload's template)."""
        pods = [p for p in self.of(gk.POD) if not p.metadata.get("ownerReferences")]
        return [*self.of(*gk.WORKLOADS), *pods]

    @functools.cached_property
    def _workloads_by_namespace(self) -> dict[str, list[Document]]:
        out: dict[str, list[Document]] = {}
        for doc in self.running:
            out.setdefault(namespace(doc), []).append(doc)
        return out

    @functools.cached_property
    def _rules_by_host(self) -> dict[tuple[str, str], list[Document]]:
        out: dict[tuple[str, str], list[Document]] = {}
        for rule in self.of(gk.DESTINATION_RULE):
            ns = namespace(rule)
            out.setdefault((ns, resolve(str(rule.spec.get("host", "")), ns)), []).append(rule)
        return out

    @functools.cached_property
    def registry(self) -> dict[str, Document]:
        """Hosts of the mesh's service registry: Service FQDNs and ServiceEntry hosts."""
        out = {fqdn(d.name, namespace(d)): d for d in self.of(gk.SERVICE)}
        for entry in self.of(gk.SERVICE_ENTRY):
            for host in items(entry.spec.get("hosts")):
                out.setdefault(str(host), entry)
        return out

    def outside(self, kind: str) -> list[External]:
        """The out-of-band objects of `kind`."""
        return [e for e in self.installation.externals if e.kind == kind]

    def gateway_ports(self, selector: dict[str, str]) -> set[int] | None:
        """Ports (Service port and target port) of the Services in front of the pods that a
        Gateway `selector` picks, in the manifests or out of band; None if it picks none."""
        pods = [(namespace(w), pod_labels(w)) for w in self.running]
        pods += [(e.namespace, dict(e.labels)) for e in self.outside("Deployment")]
        picked = [(ns, labels) for ns, labels in pods if _subset(selector, labels)]
        if not picked:
            return None
        ports: set[int] = set()
        for ns, labels in picked:
            for service in self.of(gk.SERVICE):
                chosen = mapping(service.spec.get("selector"))
                if namespace(service) == ns and chosen and _subset(chosen, labels):
                    ports |= _port_numbers(service.spec.get("ports"))
            for external in self.outside("Service"):
                if external.namespace == ns and _subset(external.labels, labels):
                    ports |= {n for p in external.ports for n in (p.port, p.target_port)}
        return ports

    def service(self, host: str) -> Document | None:
        """The Service whose FQDN is `host`, if it is in the manifests."""
        name, _, rest = host.partition(".")
        ns, _, suffix = rest.partition(".")
        return self.find(gk.SERVICE, ns, name) if suffix == "svc.cluster.local" else None

    def ports_of(self, host: str) -> list[int]:
        """The port numbers of the Service, ServiceEntry or out-of-band Service for `host`."""
        found = self.registry.get(host)
        if found is not None:
            key = "number" if found.group_kind == gk.SERVICE_ENTRY else "port"
            numbers = [p.get(key) for p in items(found.spec.get("ports")) if isinstance(p, dict)]
            return [n for n in numbers if isinstance(n, int)]
        for external in self.outside("Service"):
            if external.host == host:
                return [p.port for p in external.ports]
        return []

    def pods_behind(self, host: str) -> list[dict[str, str]]:
        """Pod labels of the workloads behind the Service of `host`, as far as the manifests
        show them (empty: no such Service here, or none of its workloads)."""
        service = self.service(host)
        chosen = mapping(service.spec.get("selector")) if service is not None else {}
        if service is None or not chosen:
            return []
        return [pods for pods in self.pod_labels_in(namespace(service)) if _subset(chosen, pods)]

    def pod_labels_in(self, ns: str) -> list[dict[str, str]]:
        """Pod labels of every workload known to run in `ns`: the manifests' workloads, and
        the declared pods of services another tool deploys (`Installation.workloads`)."""
        return self._pod_labels_by_namespace.get(ns, [])

    @functools.cached_property
    def _pod_labels_by_namespace(self) -> dict[str, list[dict[str, str]]]:
        """Computed once: rules ask for a namespace's pods once per object they judge."""
        out: dict[str, list[dict[str, str]]] = {}
        for doc in self.running:
            out.setdefault(namespace(doc), []).append(pod_labels(doc))
        for external in (*self.outside("Deployment"), *self.outside("DaemonSet")):
            out.setdefault(external.namespace, []).append(dict(external.labels))
        return out

    def selects_pods(self, ns: str, selector: Mapping[str, str]) -> bool:
        """Whether some workload of `ns` (`pod_labels_in`) has every label of `selector`,
        looked for among those that have its rarest label only: a Sidecar per service in a
        namespace of thousands would otherwise be compared with every workload there."""
        if not selector:
            return bool(self.pod_labels_in(ns))
        having = self._pods_by_label.get(ns, {})
        fewest = min((having.get(item, []) for item in selector.items()), key=len)
        return any(selector.items() <= pods.items() for pods in fewest)

    @functools.cached_property
    def _pods_by_label(self) -> dict[str, dict[tuple[str, str], list[dict[str, str]]]]:
        """Each namespace's pod labels (`pod_labels_in`) by each label they have."""
        out: dict[str, dict[tuple[str, str], list[dict[str, str]]]] = {}
        for ns, pods in self._pod_labels_by_namespace.items():
            having = out.setdefault(ns, {})
            for labels in pods:
                for item in labels.items():
                    having.setdefault(item, []).append(labels)
        return out

    def resolves(self, host: str) -> bool:
        """Whether an FQDN is a Service, a ServiceEntry host (wildcards too) or an out-of-band
        Service (Istio's own)."""
        if host in self.registry or host in self._outside_hosts:
            return True
        return any(host.endswith(suffix) for suffix in self._wildcard_suffixes)

    @functools.cached_property
    def _outside_hosts(self) -> frozenset[str]:
        """Computed once: a Sidecar's every egress host asks (thousands in an estate)."""
        return frozenset(e.host for e in self.outside("Service"))

    @functools.cached_property
    def _wildcard_suffixes(self) -> tuple[str, ...]:
        """The registry's wildcard hosts (`*.example.com`) as suffixes (`.example.com`)."""
        return tuple(known[1:] for known in self.registry if known.startswith("*."))

    def destination_rule(self, host: str, client_namespace: str) -> Document | None:
        """The DestinationRule Istio applies to `host` for a client in `client_namespace`
        (the first of `destination_rules`, whose top-level settings win)."""
        rules = self.destination_rules(host, client_namespace)
        return rules[0] if rules else None

    def destination_rules(self, host: str, client_namespace: str) -> list[Document]:
        """The DestinationRules Istio merges for `host` for a client in `client_namespace`:
        those of the client's namespace first, then the host's, then the root namespace's.
        Istio merges the rules of one namespace for one host (the first's traffic policy,
        every rule's subsets), so a subset may come from any of them."""
        host_ns = host.split(".")[1] if host.endswith(".svc.cluster.local") else None
        for ns in (client_namespace, host_ns, MESH_ROOT):
            rules = self._rules_by_host.get((ns or "", host))
            if rules:
                return rules
        return []

    def workloads(self, ns: str) -> list[Document]:
        """Objects that run pods in namespace `ns`."""
        return self._workloads_by_namespace.get(ns, [])

    @functools.cached_property
    def _workloads_by_label(self) -> dict[tuple[str, str, str], list[Document]]:
        out: dict[tuple[str, str, str], list[Document]] = {}
        for doc in self.running:
            for key, value in pod_labels(doc).items():
                out.setdefault((namespace(doc), key, value), []).append(doc)
        return out

    def selected_workloads(self, selector: object, ns: str) -> list[Document]:
        """Workloads in `ns` whose pods `selector` selects, in input order. Only those
        carrying the selector's first matchLabels pair can match, so that is an index
        lookup, not a scan of every workload."""
        pairs = mapping(selector.get("matchLabels")) if isinstance(selector, dict) else {}
        if pairs:
            key, value = next(iter(pairs.items()))
            candidates = self._workloads_by_label.get((ns, str(key), str(value)), [])
        else:
            candidates = self.workloads(ns)
        return [w for w in candidates if selects(selector, pod_labels(w))]

    @functools.cached_property
    def _budgets_by_label(self) -> dict[tuple[str, str, str] | str, list[int]]:
        """PodDisruptionBudget positions by (namespace, first matchLabels pair), or by
        namespace alone for those without matchLabels."""
        out: dict[tuple[str, str, str] | str, list[int]] = {}
        for i, pdb in enumerate(self.of(gk.PDB)):
            selector = pdb.spec.get("selector")
            pairs = mapping(selector.get("matchLabels")) if isinstance(selector, dict) else {}
            key, value = next(iter(pairs.items())) if pairs else (None, None)
            at = namespace(pdb) if key is None else (namespace(pdb), str(key), str(value))
            out.setdefault(at, []).append(i)
        return out

    def disruption_budgets(self, workload: Document) -> list[Document]:
        """The PodDisruptionBudgets selecting `workload`'s pods, in input order (looked up
        by the workload's labels, as `selected_workloads` is)."""
        ns, labels, index = namespace(workload), pod_labels(workload), self._budgets_by_label
        found = set(index.get(ns, []))
        for key, value in labels.items():
            found.update(index.get((ns, key, value), []))
        budgets = self.of(gk.PDB)
        return [
            budgets[i] for i in sorted(found) if selects(budgets[i].spec.get("selector"), labels)
        ]

    def injected_namespaces(self) -> list[Document]:
        """Namespaces whose pods get a sidecar: the ones mesh policy must cover."""
        return [
            d
            for d in self.of(gk.NAMESPACE)
            if d.labels.get("istio-injection") == "enabled"
            or ("istio.io/rev" in d.labels and "istio-injection" not in d.labels)
        ]

    def mtls_mode(self, ns: str) -> str | None:
        """The namespace-wide PeerAuthentication mode of `ns`, else the mesh-wide one."""
        for where in (ns, MESH_ROOT):
            for policy in self.of(gk.PEER_AUTHENTICATION):
                if namespace(policy) == where and not policy.spec.get("selector"):
                    mode = dig(policy.spec, "mtls", "mode")
                    if mode not in (None, "UNSET"):
                        return str(mode)
        return None


def _subset(wanted: Mapping[str, object], labels: Mapping[str, str]) -> bool:
    """Whether `labels` has every key/value of `wanted` (a map selector)."""
    return all(labels.get(str(k)) == str(v) for k, v in wanted.items())


def _port_numbers(ports: object) -> set[int]:
    """Service port numbers and integer target ports (a named target port has no number)."""
    out: set[int] = set()
    for port in items(ports):
        for key in ("port", "targetPort"):
            value = port.get(key) if isinstance(port, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                out.add(value)
    return out


def mapping(value: object) -> dict[str, Any]:
    """`value` if it is a mapping, else empty: checks never crash on a mistyped field (the
    schema rule reports it)."""
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    """`value` if it is a list, else empty (see mapping())."""
    return value if isinstance(value, list) else []


def dig(value: object, *keys: str) -> Any:
    """The value at `keys` inside nested mappings, or None where a step is missing or mistyped."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def namespace(doc: Document) -> str:
    """The namespace an object lands in; when a manifest leaves it to kubectl, `default` or
    the one `--namespace` names (kubectl apply -n)."""
    return doc.namespace or doc.default_namespace


def fqdn(name: str, ns: str) -> str:
    return f"{name}.{ns}.svc.cluster.local"


def resolve(host: str, ns: str) -> str:
    """Istio reads a host without dots as a Service in the referring object's namespace."""
    return host if "." in host or "*" in host else fqdn(host, ns)


def wave(doc: Document) -> int:
    """The Argo CD sync wave (0 when unset; Argo CD rejects non-integers)."""
    try:
        return int(doc.annotations.get(SYNC_WAVE, "0"))
    except ValueError:
        return 0


duration = durations.seconds
"""Seconds in a duration such as `1.5s`, `250ms` or `1m30s`; None if not one."""


def selects(selector: object, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes LabelSelector matches `labels` (an empty selector matches all)."""
    if not isinstance(selector, dict):
        return False
    for key, value in mapping(selector.get("matchLabels")).items():
        if labels.get(key) != str(value):
            return False
    return all(_requirement(req, labels) for req in items(selector.get("matchExpressions")))


def _requirement(req: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = req.get("key"), req.get("operator"), items(req.get("values"))
    if op == "In":
        return labels.get(str(key)) in values
    if op == "NotIn":
        return labels.get(str(key)) not in values
    if op == "Exists":
        return key in labels
    return op == "DoesNotExist" and key not in labels


def pod_labels(workload: Document) -> dict[str, str]:
    """The labels of the pods an object runs (a Pod's own)."""
    if workload.group_kind == gk.POD:
        return workload.labels
    template = mapping(dig(workload.spec, "template", "metadata"))
    return {str(k): str(v) for k, v in mapping(template.get("labels")).items()}


def pod_spec(workload: Document) -> tuple[str, dict[str, Any]]:
    """(pointer, pod spec) of the object's pod template."""
    if workload.group_kind == gk.CRON_JOB:
        keys: tuple[str, ...] = ("spec", "jobTemplate", "spec", "template", "spec")
    elif workload.group_kind == gk.POD:
        keys = ("spec",)
    else:
        keys = ("spec", "template", "spec")
    return pointer(*keys), mapping(dig(workload.obj, *keys))


def containers(workload: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, container) for every container and init container of a pod template."""
    at, pod = pod_spec(workload)
    for field in ("initContainers", "containers"):
        for i, container in enumerate(items(pod.get(field))):
            if isinstance(container, dict):
                yield f"{at}{pointer(field, i)}", container


def mesh_bound(virtual_service: Document) -> bool:
    """A VirtualService applies to sidecars when it names no gateways or names `mesh`."""
    gateways = items(virtual_service.spec.get("gateways"))
    return not gateways or "mesh" in gateways


def http_routes(virtual_service: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, route) for each HTTP route of a VirtualService."""
    for i, route in enumerate(items(virtual_service.spec.get("http"))):
        if isinstance(route, dict):
            yield pointer("spec", "http", i), route


def destinations(virtual_service: Document) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, destination) for each route destination (HTTP, TLS, TCP) and mirror."""
    for protocol in ("http", "tls", "tcp"):
        for i, route in enumerate(items(virtual_service.spec.get(protocol))):
            if not isinstance(route, dict):
                continue
            for j, target in enumerate(items(route.get("route"))):
                if isinstance(target, dict) and isinstance(target.get("destination"), dict):
                    yield (
                        pointer("spec", protocol, i, "route", j, "destination"),
                        target["destination"],
                    )
            if isinstance(route.get("mirror"), dict):
                yield pointer("spec", protocol, i, "mirror"), route["mirror"]


def scopes(
    docs: Sequence[Document],
    installations: Sequence[Installation] = (),
    waivers: Sequence[DriftWaiver] = (),
) -> list[Scope]:
    """Objects grouped by their cluster label; unlabelled objects form one scope. A cluster
    of `installations` has its installation, any other the ASSUMED one; every cluster has
    the environment's drift `waivers`."""
    groups: dict[tuple[str, str], list[Document]] = {}
    for doc in docs:
        key = (doc.labels.get(ENVIRONMENT, ""), doc.labels.get(CLUSTER, ""))
        groups.setdefault(key, []).append(doc)
    declared = {(i.environment, i.cluster): i for i in installations}
    return [
        Scope(
            name=f"{env}/{cluster}" if cluster else "",
            environment=env,
            docs=group,
            installation=declared.get((env, cluster), ASSUMED),
            waivers=waivers,
        )
        for (env, cluster), group in sorted(groups.items())
    ]
