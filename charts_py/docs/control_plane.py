"""The control-plane section of `dist/<env>/README.md`: revisions, identity, and how to upgrade.

The upgrade steps name this environment's revisions and file, so the page says exactly which
edit comes next and what to check after Argo CD has synced it.
"""

from __future__ import annotations

from charts_py.config import installation
from charts_py.config.environment import Environment
from charts_py.docs.markdown import table


def section(env: Environment, source: str) -> list[str]:
    """Revisions in use, the per-cluster identity, and the canary upgrade steps."""
    mesh = env.mesh
    if not mesh.managed:
        return [
            "## Control plane",
            "",
            "Installed out of band (`mesh.managed: false`): meshops renders no istiod, gateway "
            "or mesh configuration, and labels namespaces only as `namespaceLabels` says.",
        ]
    replicas = f"{mesh.istiod_replicas.min}-{mesh.istiod_replicas.max}"
    rows = [
        [
            f"`{r.name}`",
            r.version,
            replicas,
            ", ".join(_users(env, r.name)) or "nothing (remove it, or move something to it)",
        ]
        for r in mesh.revisions
    ]
    tracing = mesh.tracing
    sends = f"{tracing.provider} to `{tracing.endpoint}`" if tracing else "nowhere (no provider)"
    return [
        "## Control plane",
        "",
        f"Istio's Helm charts {_charts(env)} are installed "
        "in every cluster by Argo CD Applications in `dist/_bootstrap/control-plane/` "
        f"(mesh `{env.mesh_id}`, trust domain `{mesh.trust_domain}`; spans go {sends}).",
        "",
        *table(["revision", "Istio", "istiod replicas", "used by"], rows),
        "",
        *table(
            ["cluster", "clusterName", "network"],
            [[c.name, f"`{c.name}`", f"`{c.network}`"] for c in env.spec.clusters],
        ),
        "",
        *_installed(env),
        *_upgrade(env, source),
    ]


def _charts(env: Environment) -> str:
    """The charts every cluster gets: ambient's node agents where a namespace runs ambient."""
    if not any(i.ambient for i in installation.of_environment(env)):
        return "`base`, `istiod` (one per revision) and `gateway`"
    agents = " and ".join(
        f"`{a.chart}` (DaemonSet `{a.daemon_set}`)" for a in installation.NODE_AGENTS
    )
    return (
        f"`base`, `istiod` (one per revision, `profile: {installation.AMBIENT_PROFILE}`), "
        f"`gateway`, and for the ambient namespaces {agents}"
    )


def _installed(env: Environment) -> list[str]:
    """Each cluster's gateways and out-of-band Secrets (config/installation.py)."""
    clusters = installation.of_environment(env)
    gateways = [
        [
            i.cluster,
            f"`{g.release}`",
            ", ".join(f"`{k}: {v}`" for k, v in g.pod_labels.items()),
            f"{g.service_type} " + ", ".join(f"{p.name} {p.port}" for p in g.ports),
            f"`{g.service_account}`",
        ]
        for i in clusters
        for g in i.gateways
    ]
    secrets = [[i.cluster, f"`{s.name}`", s.made_by] for i in clusters for s in i.secrets]
    crds = (
        [
            f"Also out of band, in every cluster: Gateway API's CRDs, "
            f"{installation.GATEWAY_API_CHANNEL} channel {installation.GATEWAY_API_CRDS} or "
            "later (`kubectl apply --server-side -f https://github.com/kubernetes-sigs/"
            f"gateway-api/releases/download/{installation.GATEWAY_API_CRDS}/"
            f"{installation.GATEWAY_API_CHANNEL}-install.yaml`), before the first sync: "
            "the environment emits Gateway API objects (docs/control-plane.md).",
            "",
        ]
        if installation.uses_gateway_api(env)
        else []
    )
    return [
        *table(["cluster", "gateway", "pod labels", "Service ports", "ServiceAccount"], gateways),
        "",
        f"Out of band, never in git (Secrets in `{installation.ROOT}`):",
        "",
        *table(["cluster", "Secret", "made by"], secrets),
        "",
        *crds,
    ]


def _users(env: Environment, revision: str) -> list[str]:
    out = []
    if env.mesh.default_revision == revision:
        out.append(f"namespace `{env.spec.namespace}`")
    if env.mesh.gateway_revision == revision:
        out.append("gateways")
    return out


def _upgrade(env: Environment, source: str) -> list[str]:
    old = env.mesh.default_revision
    ns = env.spec.namespace
    return [
        "### Upgrading istiod with a canary revision",
        "",
        f"1. Add the new revision to `mesh.revisions` in `{source}` (keep `revision: {old}`); "
        "a new Istio release first needs its row in `charts_py/config/releases.py`. Argo CD "
        f"installs the new istiod beside `{old}`. Check: `kubectl -n istio-system get deploy "
        "-l app=istiod` lists both, and both are available.",
        f"2. Set `revision:` to the new one and `gatewayRevision: {old}`. The namespace "
        f"`{ns}` is relabelled `istio.io/rev`; pods take the new proxy when they restart: "
        f"`kubectl -n {ns} rollout restart deployment`. Check: `istioctl proxy-status` shows "
        "the pods on the new istiod; error ratio and p99 latency alerts stay quiet.",
        "3. Remove `gatewayRevision:` so the gateways move too. Check: the gateway pods "
        "restart with the new proxy and the ingress still answers.",
        f"4. Remove `{old}` from `mesh.revisions`. Argo CD deletes its istiod. `meshops "
        "validate` refuses this step while a namespace or gateway still uses it.",
        "",
        f"To roll back before step 4, set `revision:` (and `gatewayRevision:`) back to `{old}` "
        "and restart the workloads again.",
    ]
