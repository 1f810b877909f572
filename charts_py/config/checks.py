"""The third pass of loading an environment: rules that need the whole of it (unique names,
resolvable references, profile limits, what teams' files may say), after the YAML
(source.py) and the typed shape (shape.py); and what every environment of a repository must
agree on (`check_shared`). Each problem names its file and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from charts_py.config import ambient, exercises, istio_checks, releases, source, teams, waivers
from charts_py.config.model import AppNamespace, Mesh, Service, seconds
from charts_py.errors import ConfigError

if TYPE_CHECKING:
    from charts_py.config.environment import Environment

Problem = tuple[source.Source, source.FieldPath, str]
"""A problem in a file: (the file, the field, the reason)."""


def problems(env: Environment) -> Iterator[Problem]:
    """Cross-field rules: unique names, resolvable references, profile limits."""
    for path, reason in _platform_problems(env):
        yield env.raw, path, reason
    yield from waivers.problems(env)
    yield from ambient.problems(env)
    for ns in env.namespaces:
        at = ns.at
        yield from _named(
            ns.raw, at, _duplicates("services", [s.name for s in ns.services], "service")
        )
        for i, svc in enumerate(ns.services):
            where = (*at, i)
            yield from _named(ns.raw, (), _service_problems(env, where, svc))
        if ns.name != env.spec.namespace:  # the platform's: with the top level's (problems)
            found = istio_checks.services_problems(ns.services, at, ns.spec)
            yield from _named(ns.raw, (), found)
        if ns.spec is not None:
            yield from _namespace_experiment_problems(env, ns, ns.spec)
    if env.spec.ingress and not any(s.ingress for s in env.services):
        yield (
            env.raw,
            ("services",),
            "no service has an `ingress` route: the ingress would serve nothing",
        )


def _namespace_experiment_problems(
    env: Environment, ns: teams.Namespace, block: AppNamespace
) -> Iterator[Problem]:
    """A namespace block's `experiments:`, checked as the top level's are."""
    experiments = block.experiments
    at = (*ns.at[:-1], "experiments")
    names = [e.name for e in experiments]
    yield from _named(ns.raw, at, _duplicates("experiments", names, "experiment"))
    found = exercises.experiment_problems(
        experiments, ns.services, env.spec.profile, env.policy, at
    )
    yield from ((ns.raw, path, reason) for path, reason in found)


def _named(
    src: source.Source, prefix: source.FieldPath, found: Iterator[tuple[source.FieldPath, str]]
) -> Iterator[Problem]:
    for path, reason in found:
        yield src, (*prefix[:-1], *path) if prefix else path, reason


def _platform_problems(env: Environment) -> Iterator[tuple[source.FieldPath, str]]:
    """Rules on the platform file's own sections."""
    spec = env.spec
    yield from _duplicates("clusters", [c.name for c in spec.clusters], "cluster")
    yield from _duplicates("externalServices", [e.name for e in spec.external_services], "name")
    yield from _duplicates("experiments", [e.name for e in spec.experiments], "experiment")
    yield from _duplicates("loadTests", [t.name for t in spec.load_tests], "load test")
    for i, ext in enumerate(spec.external_services):
        if ext.sensitive and env.policy.egress_gateway and ext.protocol not in ("TLS", "HTTPS"):
            yield (
                ("externalServices", i, "protocol"),
                ("a sensitive host leaves through the egress gateway, which passes TLS only"),
            )
    yield from _mesh_problems(env.mesh)
    yield from exercises.experiment_problems(
        spec.experiments, spec.services, spec.profile, env.policy, ("experiments",)
    )
    yield from exercises.load_test_problems(spec)
    if env.multi_cluster and not env.policy.outlier_detection:
        yield (
            ("policy", "outlierDetection"),
            ("locality failover across clusters requires outlier detection"),
        )
    yield from istio_checks.problems(spec)


def _service_problems(
    env: Environment, at: source.FieldPath, svc: Service
) -> Iterator[tuple[source.FieldPath, str]]:
    externals = {e.name for e in env.spec.external_services}
    for j, ref in enumerate(svc.calls):
        callee = env.callee(svc, ref)
        if callee is None:
            yield (*at, "calls", j), f"unknown service {ref!r}"
        elif callee is svc:
            yield (*at, "calls", j), "a service does not need to call itself through the mesh"
    for j, ext in enumerate(svc.externals):
        if ext not in externals:
            yield (*at, "externals", j), f"unknown external service {ext!r}"
    if svc.ingress and env.spec.ingress is None:
        yield (*at, "ingress"), "the environment has no `ingress:` to route from"
    if svc.ingress and env.spec.ingress and env.spec.ingress.api == "gateway-api":
        yield from _gateway_api_problems(env, at, svc)
    yield from istio_checks.routing_problems(svc, at, bool(env.experiments(svc)))
    if svc.queue and svc.queue.broker not in externals:
        yield (*at, "queue", "broker"), f"unknown external service {svc.queue.broker!r}"
    if svc.workload and svc.autoscaling and not svc.workload.deployment:
        yield (*at, "workload"), "autoscaling pods someone else deploys needs `deployment`"
    if svc.fault:
        mode = env.policy.fault_injection
        ns = env.namespace_of(svc)
        if mode == "forbidden" and not waivers.waived(env, "fault-injection", ns):
            reason = f"fault injection is forbidden: {waivers.hint(env, 'fault-injection', ns)}"
            yield (*at, "fault"), reason
        elif mode == "header-gated" and not svc.fault.header:
            yield (*at, "fault", "header"), f"the {env.spec.profile} profile requires a header gate"
    settings = env.settings(svc)
    retries, timeout = settings.retries, settings.timeout
    if retries is None or timeout is None:
        return  # no bound to check against: Istio's own defaults apply
    budget = seconds(retries.per_try_timeout) * (retries.attempts + 1)
    if seconds(timeout) < budget:
        yield (
            (*at, "timeout"),
            (
                f"route timeout {timeout} is shorter than the retry budget "
                f"{retries.attempts + 1} x {retries.per_try_timeout}"
            ),
        )


def _gateway_api_problems(
    env: Environment, at: source.FieldPath, svc: Service
) -> Iterator[tuple[source.FieldPath, str]]:
    """What an exposed service asks of its routes that an ingress HTTPRoute cannot carry.

    The HTTPRoute sends ingress traffic to the Service, and the gateway is the client: the
    service's mesh routes (subsets, weights, Istio's `http` matches, faults) do not apply to
    it, so asking for them would silently do nothing at the ingress."""
    keep = "keep ingress.api istio for it"
    if len(svc.versions) > 1:
        yield (
            (*at, "versions"),
            f"ingress.api gateway-api routes to the Service, not to its versions: the weights "
            f"would not apply to ingress traffic ({keep})",
        )
    if svc.routed:
        yield (
            (*at, "http" if svc.http is not None else "tcp" if svc.tcp else "tls"),
            f"ingress.api gateway-api does not carry Istio's routes to the service ({keep})",
        )
    if env.experiments(svc):
        yield (
            (*at, "fault" if svc.fault else "ingress"),
            f"fault injection has no Gateway API HTTPRoute equivalent at the ingress ({keep})",
        )


def _mesh_problems(mesh: Mesh) -> Iterator[tuple[source.FieldPath, str]]:
    """Revisions name known releases, and the revision in use is one of them."""
    first: dict[str, int] = {}
    for i, revision in enumerate(mesh.revisions):
        if first.setdefault(revision.name, i) != i:
            where = f"mesh.revisions[{first[revision.name]}]"
            yield ("mesh", "revisions", i, "name"), f"duplicate revision (first at {where})"
        if revision.version not in releases.RELEASES:
            known = ", ".join(sorted(releases.RELEASES))
            yield (
                ("mesh", "revisions", i, "version"),
                f"Istio {revision.version} is not in charts_py/config/releases.py (known: {known})",
            )
    names = [r.name for r in mesh.revisions]
    if mesh.revision is None and len(names) > 1:
        yield ("mesh", "revision"), f"say which of {names} namespaces and gateways use"
    elif mesh.revision is not None and mesh.revision not in names:
        yield ("mesh", "revision"), f"{mesh.revision!r} is not a declared revision ({names})"
    if mesh.gateway_revision_ is not None and mesh.gateway_revision_ not in names:
        reason = f"{mesh.gateway_revision_!r} is not a declared revision ({names})"
        yield ("mesh", "gatewayRevision"), reason


def _duplicates(field: str, names: list[str], what: str) -> Iterator[tuple[source.FieldPath, str]]:
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            yield (field, i, "name"), f"duplicate {what} {name!r} (first at {field}[{first[name]}])"
        first.setdefault(name, i)


def check_shared(envs: list[Environment]) -> None:
    """Settings the single Argo CD bootstrap needs must agree across environments."""
    first = envs[0]
    for env in envs[1:]:
        if env.spec.argocd != first.spec.argocd:
            raise ConfigError(
                env.file, "argocd", f"must match {first.file}: one ApplicationSet serves all"
            )
    owner: dict[str, tuple[str | None, str]] = {}
    for env in envs:
        for ns in env.namespaces:
            owned = owner.setdefault(ns.name, (ns.team, env.file))
            if owned[0] != ns.team:
                # Argo CD's platform ApplicationSet excludes a team namespace's files in every
                # environment (bootstrap.py): one owner per namespace name across them.
                who = f"team {owned[0]}" if owned[0] else "the platform"
                reason = f"namespace {ns.name!r} is {who}'s in {owned[1]}: one owner everywhere"
                raise ConfigError(env.file, "teams", reason)
    seen: dict[str, str] = {}
    for env in envs:
        for cluster in env.spec.clusters:
            if cluster.name in seen:
                reason = f"cluster {cluster.name!r} is also in {seen[cluster.name]}"
                raise ConfigError(env.file, "clusters", reason)
            seen[cluster.name] = env.file
