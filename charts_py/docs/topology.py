"""An environment's topology as a Mermaid `flowchart LR` (GitHub renders it in Markdown).

Node ids are derived from names with a prefix per kind (`svc_reviews`, `ext_stripe`) and the
names go into quoted labels, so a service called like a Mermaid keyword (`end`) or with a
hyphen cannot break the diagram. Lines are sorted wherever the file's order carries no meaning.
"""

from __future__ import annotations

import itertools
import re

from charts_py.config import installation
from charts_py.config.environment import Environment
from charts_py.config.model import ExternalService, Service

INGRESS = "ingress"
EGRESS = "egress"


def node(kind: str, *names: str) -> str:
    """A Mermaid-safe node id: names are DNS labels (no `_`), so `a-b` -> `svc_a_b` and the
    `__` between parts (`subset_reviews__v2`) cannot collide."""
    return f"{kind}_" + "__".join(re.sub(r"[^A-Za-z0-9]", "_", n) for n in names)


def flowchart(env: Environment) -> list[str]:
    """Ingress -> exposed services -> callees, subsets with weights, externals, clusters."""
    lines = ["flowchart LR"]
    lines += _entry(env)
    lines += _namespaces(env)
    lines += _calls(env)
    lines += _externals(env)
    lines += _clusters(env)
    return lines


def _services(env: Environment) -> list[Service]:
    return sorted(env.services, key=lambda s: (env.namespace_of(s), s.name))


def _svc(env: Environment, svc: Service) -> str:
    """A service's node id: its name, with its namespace outside the platform's."""
    ns = env.namespace_of(svc)
    return node("svc", svc.name) if ns == env.spec.namespace else node("svc", ns, svc.name)


def _entry(env: Environment) -> list[str]:
    hosts = "<br/>".join(sorted(env.spec.ingress.hosts))
    lines = [f'  {INGRESS}(["ingress gateway<br/>{hosts}"])']
    exposed = [s for s in _services(env) if s.ingress]
    lines += [f'  {INGRESS} -->|"{s.ingress.path}"| {_svc(env, s)}' for s in exposed if s.ingress]
    return lines


def _namespaces(env: Environment) -> list[str]:
    """Each namespace with its services, and for canaries one node per subset with its share
    of the traffic."""
    lines = []
    for ns in env.namespaces:
        if not ns.services and ns.name != env.spec.namespace:
            continue
        owner = f" (team {ns.team})" if ns.team else ""
        lines.append(f'  subgraph {node("ns", ns.name)}["namespace {ns.name}{owner}"]')
        services = sorted(ns.services, key=lambda s: s.name)
        for svc in services:
            lines.append(f'    {_svc(env, svc)}["{svc.name}"]')
        for svc in services:
            if len(svc.versions) < 2:
                continue
            for version in svc.versions:
                subset = node("subset", env.namespace_of(svc), svc.name, version.name)
                if env.namespace_of(svc) == env.spec.namespace:
                    subset = node("subset", svc.name, version.name)
                lines.append(
                    f'    {_svc(env, svc)} -->|"{version.weight}%"| '
                    f'{subset}["{svc.name} {version.name}"]'
                )
        lines.append("  end")
    return lines


def _calls(env: Environment) -> list[str]:
    pairs = sorted(
        (_svc(env, svc), _svc(env, callee))
        for svc in env.services
        for ref in svc.calls
        if (callee := env.callee(svc, ref)) is not None
    )
    return [f"  {a} --> {b}" for a, b in pairs]


def _externals(env: Environment) -> list[str]:
    """Dotted arrows leave the mesh; sensitive hosts pass the egress gateway when it exists."""
    by_name = {e.name: e for e in env.spec.external_services}
    lines = []
    for ext in sorted(by_name.values(), key=lambda e: e.name):
        label = f"{ext.name}<br/>{ext.host}:{ext.port}"
        lines.append(f'  {node("ext", ext.name)}{{{{"{label}"}}}}')
    gated = sorted(e.name for e in by_name.values() if installation.via_egress_gateway(env, e))
    if gated:
        lines.append(f'  {EGRESS}(["egress gateway"])')
        lines += [f"  {EGRESS} -.-> {node('ext', name)}" for name in gated]
    for svc in _services(env):
        for name in sorted(svc.externals):
            lines.append(_external_edge(env, svc, by_name[name]))
    return lines


def _external_edge(env: Environment, svc: Service, ext: ExternalService) -> str:
    label = f"queue {svc.queue.name}" if svc.queue and svc.queue.broker == ext.name else ext.name
    target = EGRESS if installation.via_egress_gateway(env, ext) else node("ext", ext.name)
    return f'  {_svc(env, svc)} -.->|"{label}"| {target}'


def _clusters(env: Environment) -> list[str]:
    """Multi-primary: every cluster runs the namespace above; east-west gateways join them."""
    if not env.multi_cluster:
        return []
    lines = ['  subgraph clusters["each cluster runs every service and policy (multi-primary)"]']
    for cluster in env.spec.clusters:
        label = f"{cluster.name}<br/>{cluster.region}, {cluster.network}"
        lines.append(f'    {node("cluster", cluster.name)}["{label}"]')
    lines.append("  end")
    for a, b in itertools.combinations(env.spec.clusters, 2):
        lines.append(
            f'  {node("cluster", a.name)} <-->|"east-west gateway :15443"| '
            f"{node('cluster', b.name)}"
        )
    return lines
