"""dist/_bootstrap/argocd: the AppProjects and ApplicationSets syncing every dist/<env>/<cluster>.

The platform's project and ApplicationSet sync every folder but the objects of teams'
namespaces; each team gets a project limited to its namespaces and an ApplicationSet whose
Applications sync only its namespaces' files of the same folders.

Argo CD admits an Application only if the project permits its destination (cluster and
namespace) and, at sync, every object's kind and namespace. So what the Applications may
touch is derived once, in `reach()`, and both the AppProject and the ApplicationSet template
are written from it: they cannot disagree. Validate's `argocd-destination` and
`argocd-project-permits` rules check the same agreement on any bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cdk8s

from charts_py import contract, kinds, naming
from charts_py.config import ambient, istio_checks
from charts_py.config.environment import Environment
from charts_py.config.istio_objects import Extension
from charts_py.config.model import Service
from charts_py.constructs import drift_job
from charts_py.constructs.objects import emit

PROJECT = "meshops"
CHART = "argocd"
BOOTSTRAP_ENVIRONMENT = "bootstrap"
BOOTSTRAP_CLUSTER = "in-cluster"


@dataclass(frozen=True)
class Reach:
    """What the per-cluster Applications may touch."""

    destinations: tuple[tuple[str, str], ...]
    """(cluster name, namespace) pairs, sorted: every namespace a cluster's charts write to."""
    namespace: str
    """Every Application's destination namespace. Each generated object names its own
    namespace, but Argo CD matches the Application's destination against the project too,
    and an empty one matches no `namespace: <name>` entry (InvalidSpecError)."""
    kinds: tuple[kinds.Kind, ...]


def reach(envs: list[Environment]) -> Reach:
    """The one derivation of clusters, namespaces and kinds behind the platform's project:
    every namespace a cluster's charts write to, but the teams'."""
    owned = {ns for team in team_reach(envs).values() for _, ns in team.destinations}
    pairs = sorted(
        {
            (c.name, ns)
            for env in envs
            for c in env.spec.clusters
            # The mesh root is every Application's destination (below), even where the
            # control plane is out of band and dist/ puts nothing there (an adopted mesh).
            for ns in {*drift_job.managed_namespaces(env), naming.MESH_ROOT}
            if ns not in owned
        }
    )
    # The mesh root exists in every cluster, so one template namespace fits every cluster.
    extensions = _joined(
        istio_checks.extension_kinds(
            [e for env in envs for e in env.extensions], [s for env in envs for s in env.services]
        ),
        {k for env in envs for k in ambient.gateway_api_kinds(env)},
    )
    return Reach(tuple(pairs), naming.MESH_ROOT, (*kinds.MESH_KINDS, *extensions))


@dataclass(frozen=True)
class TeamReach:
    """What one team's Applications may touch: its namespaces in the clusters of the
    environments it has them in, namespaced kinds only (the platform creates the namespaces)."""

    destinations: tuple[tuple[str, str], ...]
    """(cluster, namespace) pairs, sorted."""
    folders: tuple[tuple[str, str, str], ...]
    """(env, cluster, namespace) of each dist/ folder holding the team's objects, sorted; the
    namespace (the team's first there) is its Application's destination."""
    extensions: tuple[kinds.Kind, ...] = ()
    """The kinds only some environments emit that the team's namespaces hold: its
    `extensions:` (istio_checks.extension_kinds), its Gateway API lists, ambient's and the
    Gateway API ingress's Gateway API kinds."""

    @property
    def namespaces(self) -> list[str]:
        return sorted({ns for _, ns in self.destinations})


def team_reach(envs: list[Environment]) -> dict[str, TeamReach]:
    """Each team's reach, by team name (a team may own namespaces in several environments)."""
    pairs: dict[str, set[tuple[str, str]]] = {}
    folders: dict[str, dict[tuple[str, str], str]] = {}
    services: dict[str, list[Service]] = {}
    wide: dict[str, list[Extension]] = {}
    gateway_api: dict[str, set[kinds.Kind]] = {}
    for env in envs:
        for ns in env.namespaces:
            if ns.team is None:
                continue
            services.setdefault(ns.team, []).extend(ns.services)
            wide.setdefault(ns.team, []).extend(ns.spec.extensions if ns.spec else ())
            if env.ambient(ns) or _routed_from_gateway_api_ingress(env, ns.services):
                gateway_api.setdefault(ns.team, set()).update(kinds.AMBIENT_GATEWAY_API_KINDS)
            listed = istio_checks.gateway_api_kinds([ns.spec] if ns.spec else [])
            gateway_api.setdefault(ns.team, set()).update(listed)
            for c in env.spec.clusters:
                pairs.setdefault(ns.team, set()).add((c.name, ns.name))
                folders.setdefault(ns.team, {}).setdefault((env.name, c.name), ns.name)
    return {
        team: TeamReach(
            tuple(sorted(pairs[team])),
            tuple(sorted((e, c, ns) for (e, c), ns in folders[team].items())),
            _joined(
                istio_checks.extension_kinds(wide[team], services[team]),
                gateway_api.get(team, set()),
            ),
        )
        for team in sorted(pairs)
    }


def files_of(namespaces: list[str]) -> str:
    """An Argo CD directory glob matching the dist files of objects in `namespaces`
    (`<chart>/<Kind>.<group>.<namespace>.<name>.yaml`). Argo CD matches it against the path
    relative to the Application's folder with no separator, so `*` spans `/` (reposerver
    `getPotentiallyValidManifestFile`, argo-cd v3.6.1); config/teams.py keeps team namespaces
    from being named like a segment of an API group, so `.<ns>.` matches the namespace only."""
    patterns = [f"*.{ns}.*.yaml" for ns in namespaces]
    return patterns[0] if len(patterns) == 1 else "{" + ",".join(patterns) + "}"


def build(envs: list[Environment]) -> cdk8s.App:
    """The Argo CD objects for all environments: the platform's project and ApplicationSet,
    and one of each per team, limited to its namespaces."""
    app = cdk8s.App()
    chart = cdk8s.Chart(
        app, CHART, labels=contract.labels(BOOTSTRAP_ENVIRONMENT, BOOTSTRAP_CLUSTER, CHART)
    )
    argocd, scope, teams = envs[0].spec.argocd, reach(envs), team_reach(envs)
    excluded = [ns for team in teams.values() for ns in team.namespaces]
    spec = {"spec": _project(envs[0], scope)}
    emit(chart, kinds.APP_PROJECT, PROJECT, spec, namespace=argocd.namespace)
    spec = {"spec": _application_set(envs[0], scope, sorted(set(excluded)))}
    emit(chart, kinds.APPLICATION_SET, PROJECT, spec, namespace=argocd.namespace)
    for team, found in teams.items():
        name = f"{PROJECT}-{team}"
        spec = {"spec": _team_project(envs[0], team, found)}
        emit(chart, kinds.APP_PROJECT, name, spec, namespace=argocd.namespace)
        spec = {"spec": _team_application_set(envs[0], team, found)}
        emit(chart, kinds.APPLICATION_SET, name, spec, namespace=argocd.namespace)
    return app


def _team_project(env: Environment, team: str, found: TeamReach) -> dict[str, Any]:
    return {
        "description": f"Team {team}'s namespaces, generated by meshops",
        "sourceRepos": [env.spec.argocd.repo_url],
        "destinations": [{"name": c, "namespace": ns} for c, ns in found.destinations],
        "namespaceResourceWhitelist": [
            {"group": k.group, "kind": k.kind}
            for k in (*kinds.MESH_KINDS, *found.extensions)
            if k.namespaced
        ],
    }


def _team_application_set(env: Environment, team: str, found: TeamReach) -> dict[str, Any]:
    """One Application per folder holding the team's objects, syncing only those files."""
    argocd = env.spec.argocd
    elements = [{"env": e, "cluster": c, "namespace": ns} for e, c, ns in found.folders]
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"list": {"elements": elements}}],
        "template": {
            "metadata": {
                "name": f"{PROJECT}-{team}-{{{{.env}}}}-{{{{.cluster}}}}",
                "labels": {
                    contract.MANAGED_BY: contract.MANAGED_BY_VALUE,
                    contract.ENVIRONMENT: "{{.env}}",
                    contract.CLUSTER: "{{.cluster}}",
                },
            },
            "spec": {
                "project": f"{PROJECT}-{team}",
                "source": {
                    "repoURL": argocd.repo_url,
                    "targetRevision": argocd.revision,
                    "path": "dist/{{.env}}/{{.cluster}}",
                    "directory": {"recurse": True, "include": files_of(found.namespaces)},
                },
                "destination": {"name": "{{.cluster}}", "namespace": "{{.namespace}}"},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["ServerSideApply=true"],
                    # The platform's Application creates the namespaces; until it has, a
                    # sync fails, and Argo CD retries a failed automated sync of the same
                    # revision only with a retry policy.
                    "retry": {
                        "limit": 10,
                        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"},
                    },
                },
            },
        },
    }


def _project(env: Environment, scope: Reach) -> dict[str, Any]:
    def allowed(namespaced: bool) -> list[dict[str, str]]:
        return [
            {"group": k.group, "kind": k.kind} for k in scope.kinds if k.namespaced == namespaced
        ]

    return {
        "description": "Service mesh manifests generated by meshops",
        "sourceRepos": [env.spec.argocd.repo_url],
        "destinations": [{"name": c, "namespace": ns} for c, ns in scope.destinations],
        "clusterResourceWhitelist": allowed(namespaced=False),
        "namespaceResourceWhitelist": allowed(namespaced=True),
    }


def _application_set(env: Environment, scope: Reach, excluded: list[str]) -> dict[str, Any]:
    argocd = env.spec.argocd
    directory: dict[str, Any] = {"recurse": True}
    if excluded:  # the teams' Applications sync those
        directory["exclude"] = files_of(excluded)
    env_segment, cluster = "{{index .path.segments 1}}", "{{.path.basename}}"
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            {
                "git": {
                    "repoURL": argocd.repo_url,
                    "revision": argocd.revision,
                    "directories": [
                        {"path": "dist/*/*"},
                        {"path": f"dist/{contract.BOOTSTRAP_DIR}/*", "exclude": True},
                    ],
                }
            }
        ],
        "template": {
            "metadata": {
                "name": f"{PROJECT}-{env_segment}-{cluster}",
                "labels": {
                    contract.MANAGED_BY: contract.MANAGED_BY_VALUE,
                    contract.ENVIRONMENT: env_segment,
                    contract.CLUSTER: cluster,
                },
            },
            "spec": {
                "project": PROJECT,
                "source": {
                    "repoURL": argocd.repo_url,
                    "targetRevision": argocd.revision,
                    "path": "{{.path.path}}",
                    "directory": directory,
                },
                "destination": {"name": cluster, "namespace": scope.namespace},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    # No PruneLast: it moves pruning to a wave after the workloads, which
                    # then waits for their health (see kinds.py on why nothing may).
                    "syncOptions": ["ServerSideApply=true"],
                },
            },
        },
    }


def _joined(extensions: tuple[kinds.Kind, ...], more: set[kinds.Kind]) -> tuple[kinds.Kind, ...]:
    """`extensions` then the Gateway API kinds of `more` they do not hold yet (in the order of
    kinds.GATEWAY_API_KINDS), so the AppProject and the Role name each kind once."""
    return (*extensions, *(k for k in kinds.GATEWAY_API_KINDS if k in more and k not in extensions))


def _routed_from_gateway_api_ingress(env: Environment, services: Sequence[Service]) -> bool:
    """Whether a Gateway API ingress routes to some of `services` (its HTTPRoutes live in
    each exposed service's namespace)."""
    ingress = env.spec.ingress
    return bool(ingress and ingress.api == "gateway-api" and any(s.ingress for s in services))
