"""Load environment files into validated `Environment`s, or fail with one precise line.

Validation happens in three passes, each naming file, field and line on failure:
the YAML itself (source.py), the typed shape (model.py), then cross-references and profile
rules that need the whole file (here).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from charts_py import provenance, yamlio
from charts_py.config import (
    ambient,
    exercises,
    istio_checks,
    origin,
    profiles,
    releases,
    source,
    teams,
    view,
    waivers,
)
from charts_py.config.model import (
    FALLBACKS,
    Alerts,
    Autoscaling,
    ConnectionPool,
    Drift,
    EnvironmentFile,
    Experiment,
    Mesh,
    OutlierDetection,
    Policy,
    Resources,
    Retries,
    Service,
    TeamFile,
    seconds,
)
from charts_py.errors import ConfigError

T = TypeVar("T", EnvironmentFile, TeamFile, Policy, Mesh, Drift)

ENV_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    """A service's effective resilience, sizing and alerting: its own values, else the policy's."""

    resources: Resources
    autoscaling: Autoscaling | None
    timeout: str | None
    retries: Retries | None
    outlier_detection: OutlierDetection | None
    alerts: Alerts | None
    connection_pool: ConnectionPool | None
    load_balancer: str | None
    """None: switched off (`false`) at some level, or not set by any."""


@dataclass(frozen=True)
class Environment:
    """One validated environment: the file's content with its profile's policy applied."""

    name: str
    file: str
    spec: EnvironmentFile
    policy: Policy
    mesh: Mesh
    raw: source.Source = field(repr=False, compare=False)
    """The file as written: which keys the user set (for `origin`)."""
    namespaces: list[teams.Namespace] = field(default_factory=list, compare=False)
    """Every application namespace, the platform's `namespace` first (config/teams.py)."""
    team_files: tuple[teams.TeamSource, ...] = field(default=(), repr=False, compare=False)

    @property
    def mesh_id(self) -> str:
        """The meshID every cluster of the environment shares (multi-primary needs one)."""
        return self.mesh.mesh_id or self.name

    @property
    def multi_cluster(self) -> bool:
        return len(self.spec.clusters) > 1

    @functools.cached_property
    def services(self) -> list[Service]:
        """Every service of the environment, namespace by namespace."""
        return [svc for ns in self.namespaces for svc in ns.services]

    @functools.cached_property
    def namespaces_by_name(self) -> dict[str, teams.Namespace]:
        """Every application namespace by name."""
        return {ns.name: ns for ns in self.namespaces}

    def dataplane(self, ns: teams.Namespace) -> view.View:
        """The data plane of `ns`, traced: its own `dataplane`, else the policy's."""
        if ns.spec is not None and ns.spec.dataplane is not None:
            return self._block(ns).step("dataplane")
        return self._root.step("policy").step("dataplane")

    def ambient(self, ns: teams.Namespace) -> bool:
        """Whether `ns` runs in ambient mode (ztunnel and waypoints, no sidecars)."""
        return ns.name in self.ambient_namespaces

    @functools.cached_property
    def ambient_namespaces(self) -> frozenset[str]:
        """The names of the namespaces in ambient mode (asked per service: read once)."""
        return frozenset(ns.name for ns in self.namespaces if self.dataplane(ns).plain == "ambient")

    def namespace_of(self, service: Service) -> str:
        """The namespace `service` runs in."""
        return self._homes[id(service)].name

    def home(self, service: Service) -> teams.Namespace:
        """The namespace `service` is described in (its file, its team)."""
        return self._homes[id(service)]

    @functools.cached_property
    def _homes(self) -> dict[int, teams.Namespace]:
        return {id(svc): ns for ns in self.namespaces for svc in ns.services}

    def callee(self, caller: Service, ref: str) -> Service | None:
        """The service `ref` of `caller`'s `calls` names (`name` in its own namespace,
        `<namespace>/<name>` in another), or None if there is none."""
        namespace, _, name = ref.rpartition("/")
        return self._by_key.get((namespace or self.namespace_of(caller), name))

    @functools.cached_property
    def _by_key(self) -> dict[tuple[str, str], Service]:
        return {(ns.name, svc.name): svc for ns in self.namespaces for svc in ns.services}

    @functools.cached_property
    def callers(self) -> dict[int, list[Service]]:
        """For each service (by id), the services that call it, by namespace and name."""
        out: dict[int, list[Service]] = {id(s): [] for s in self.services}
        for svc in self.services:
            for ref in svc.calls:
                found = self.callee(svc, ref)
                if found is not None:
                    out[id(found)].append(svc)
        key = self.namespace_of
        return {i: sorted(found, key=lambda s: (key(s), s.name)) for i, found in out.items()}

    def callers_of(self, service: Service) -> list[Service]:
        """The services that call `service`, sorted by namespace and name."""
        return self.callers[id(service)]

    def experiments(self, service: Service) -> list[Experiment]:
        """Fault experiments on `service`, its `fault:` shorthand included (exercises.py)."""
        return exercises.of_service(self.spec, service, self.namespace_of(service))

    def load_tested(self, service: Service) -> bool:
        """Whether a load test of this environment targets `service` (it must admit the Job)."""
        if self.namespace_of(service) != self.spec.namespace:
            return False  # load tests target the platform's namespace (exercises.py)
        return any(t.target == service.name for t in self.spec.load_tests)

    def settings(self, service: Service) -> Settings:
        """Effective settings of `service`: its own fields, else the policy's (FALLBACKS, read
        through the traced view, which owns the fallback); `autoscaling: false` is none."""
        own = self.traced(service)
        values: dict[str, Any] = {}
        for name in FALLBACKS:
            value = getattr(own, name).plain
            values[name] = None if value is False else value
        return Settings(**values)

    def traced(self, obj: BaseModel) -> view.View:
        """A traced view of `obj`, a part of this environment (a service, a cluster, the
        policy, the mesh, the ingress, ...): what is read through it records its own path."""
        found = self._parts.get(id(obj))
        if found is None:
            raise KeyError(f"{type(obj).__name__} is not a part of environment {self.name!r}")
        root, path = found
        for key in path:
            root = root.step(key)
        return root

    def at(self, path: source.FieldPath) -> view.View:
        """The traced view at model path `path` of the platform file, e.g.
        `("services", 6, "timeout")` (the service's own value, else the policy's)."""
        found = self._root
        for key in path:
            found = found.step(key)
        return found

    def origin(self, path: source.FieldPath) -> provenance.Origin:
        """Where the effective value at model path `path` of the platform file comes from."""
        return self.at(path).origin

    @functools.cached_property
    def _root(self) -> view.View:
        """The whole platform file as synth sees it: its sections, with the policy and the
        mesh completed by the profile."""
        top = {
            (info.alias or name): getattr(self.spec, name)
            for name, info in EnvironmentFile.model_fields.items()
        }
        top |= {"policy": self.policy, "mesh": self.mesh}
        return self._view(top, self.raw)

    def _view(self, top: dict[str, object], src: source.Source) -> view.View:
        """A root view of one file's content."""
        resolve = functools.partial(self._origin, src)
        return view.View(top, (), (), resolve, functools.partial(self._fallback, src))

    @functools.cached_property
    def _parts(self) -> dict[int, tuple[view.View, source.FieldPath]]:
        """The root and the path of each part `traced()` accepts, by identity."""
        out: dict[int, tuple[view.View, source.FieldPath]] = {}
        for key, value in self._root.plain.items():
            out[id(value)] = (self._root, (key,))
            if isinstance(value, list):
                out |= {id(item): (self._root, (key, i)) for i, item in enumerate(value)}
        for ns in self.namespaces[1:]:
            root = self._root if ns.raw is self.raw else self._team_root(ns.raw)
            out |= {id(svc): (root, (*ns.at, i)) for i, svc in enumerate(ns.services)}
        return out

    def _team_root(self, src: source.Source) -> view.View:
        team = next(t for t in self.team_files if t.raw is src)
        return self._view({"namespaces": team.spec.namespaces}, src)

    def _fallback(
        self, src: source.Source, model: BaseModel, name: str, override: source.FieldPath
    ) -> view.View | None:
        """A service's field it leaves out is the policy's field of the same name (FALLBACKS),
        still overridable by the service's own (in `src`, the service's file)."""
        if isinstance(model, Service) and name in FALLBACKS:
            if name == "autoscaling" and model.workload is not None:
                return None  # pods deployed by others: an HPA only when the service asks
            ns = self.home(model)
            defaults = ns.spec.defaults if ns.spec else None
            if defaults is not None and getattr(defaults, name) is not None:
                block = self._block(ns).step("defaults")
                found: view.View = getattr(block, name)
                resolve = functools.partial(self._origin, ns.raw, override_in=src)
            else:
                found = getattr(self._root.step("policy"), name)
                resolve = functools.partial(self._origin, self.raw, override_in=src)
            return found.seen_from(override, resolve)
        return None

    def _block(self, ns: teams.Namespace) -> view.View:
        """The traced view of a namespace's block (`namespaces[i]` of its file)."""
        root = self._root if ns.raw is self.raw else self._team_root(ns.raw)
        for key in ns.at[:-1]:
            root = root.step(key)
        return root

    def _origin(
        self,
        src: source.Source,
        path: source.FieldPath,
        override: source.FieldPath,
        override_in: source.Source | None = None,
    ) -> provenance.Origin:
        """Resolved once per (file, path, override): every cluster and version asks again."""
        narrowest = override_in or src
        key = (src.file, path, override, narrowest.file)
        found = self._origins.get(key)
        if found is None:
            team_file = None if narrowest is self.raw else narrowest.file
            found = origin.resolve(src, self.spec.profile, path, override, team_file)
            self._origins[key] = found
        return found

    @functools.cached_property
    def _origins(self) -> dict[object, provenance.Origin]:
        return {}


def load(path: Path) -> Environment:
    """Read and validate one environment file, and its teams' files beside it
    (`<env>/<team>.yaml`); the environment is named after the file."""
    folder = Path(teams.team_dir(str(path)))
    found = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    team_sources = [source.read(file, str(file)) for file in found]
    return _load(source.read(path, str(path)), path.stem, team_sources)


def load_text(
    text: str, name: str, display: str, team_texts: Mapping[str, str] | None = None
) -> Environment:
    """Validate an environment file's content (e.g. read from a git commit), with its teams'
    files' contents by display path (`environments/prod/payments.yaml`)."""
    found = [source.parse(t, shown) for shown, t in sorted((team_texts or {}).items())]
    return _load(source.parse(text, display), name, found)


def drift_rules(text: str, display: str) -> Drift:
    """Only the `drift:` section of an environment file's content, validated as `load_text`
    validates it: all a drift run needs of the file, which synth validated whole when it
    rendered dist/ at the same commit (and the whole of a large estate costs 30 times more).
    Errors name the file, field and line like `load_text`'s."""
    try:
        data = yamlio.load(text)
        if isinstance(data, dict):
            return Drift.model_validate(data.get("drift", {}))
    except (yaml.YAMLError, ValidationError):
        pass  # read it again with lines, to say where
    src = source.parse(text, display)
    if not isinstance(src.data, dict):
        raise ConfigError(display, "", "expected a mapping at the top level", 1)
    return _validate(Drift, src.data.get("drift", {}), src, ("drift",))


def candidate(
    text: str, name: str, display: str, team_texts: Mapping[str, str] | None = None
) -> tuple[Environment, list[ConfigError]]:
    """An environment file's content read as `load_text` reads it, with every cross-field
    problem it has rather than the first: what an edit would need before it can be made
    (`meshops plan-ambient`). A file that fails earlier (YAML, types, teams) still raises."""
    found = [source.parse(t, shown) for shown, t in sorted((team_texts or {}).items())]
    env = _built(source.parse(text, display), name, found)
    return env, [
        ConfigError(at.file, source.dotted(path), reason, at.line_of(path))
        for at, path, reason in _problems(env)
    ]


def _load(src: source.Source, name: str, team_sources: Sequence[source.Source] = ()) -> Environment:
    env = _built(src, name, team_sources)
    for at, field_path, reason in _problems(env):
        raise ConfigError(at.file, source.dotted(field_path), reason, at.line_of(field_path))
    return env


def _built(
    src: source.Source, name: str, team_sources: Sequence[source.Source] = ()
) -> Environment:
    """The environment of a file whose shape and teams are valid (the cross-field rules are
    `_problems`)."""
    shown = src.file
    if not ENV_NAME.match(name):
        raise ConfigError(shown, "", f"environment name {name!r} must be a DNS label")
    if not isinstance(src.data, dict):
        raise ConfigError(shown, "", "expected a mapping at the top level", 1)
    spec = _validate(EnvironmentFile, src.data, src, ())
    policy_data = profiles.merged(spec.profile, dict(spec.policy))
    policy = _validate(Policy, policy_data, src, ("policy",))
    mesh_data = profiles.merged_mesh(spec.profile, dict(spec.mesh))
    mesh = _validate(Mesh, mesh_data, src, ("mesh",))
    for field_path, reason in teams.owners(spec):
        raise ConfigError(shown, source.dotted(field_path), reason, src.line_of(field_path))
    found = {team.team: team for team in map(_team, team_sources)}
    for team in found.values():
        teams.check_owned(spec, team)
    env = Environment(
        name=name,
        file=shown,
        spec=spec,
        policy=policy,
        mesh=mesh,
        raw=src,
        namespaces=teams.resolve(spec, src, found),
        team_files=tuple(found.values()),
    )
    return env


def _team(src: source.Source) -> teams.TeamSource:
    """One team's file, named after it (`environments/prod/payments.yaml`: team payments)."""
    name = Path(src.file).stem
    if not ENV_NAME.match(name):
        raise ConfigError(src.file, "", f"team name {name!r} must be a DNS label")
    if not isinstance(src.data, dict):
        raise ConfigError(src.file, "", "expected a mapping at the top level", 1)
    return teams.TeamSource(name, _validate(TeamFile, src.data, src, ()), src)


def load_all(directory: Path) -> dict[str, Environment]:
    """Every `*.yaml` environment in `directory`, by name, checked for agreement."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(str(directory), "", "no environment files (*.yaml) found")
    envs = {}
    for file in files:
        env = load(file)
        envs[env.name] = env
    check_shared(list(envs.values()))
    return envs


def select(envs: dict[str, Environment], names: Sequence[str], where: str) -> list[Environment]:
    """The environments named (all when none are), or a ConfigError naming the unknown one;
    `where` is the environments folder, for the message."""
    for name in names:
        if name not in envs:
            known = ", ".join(sorted(envs))
            raise ConfigError(f"{where}/{name}.yaml", "", f"no such environment (known: {known})")
    return [envs[n] for n in sorted(set(names))] if names else list(envs.values())


def _validate(model: type[T], data: object, src: source.Source, prefix: source.FieldPath) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail: ErrorDetails = exc.errors()[0]
        loc = (*prefix, *_in_data(data, detail["loc"]))
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        elif detail["type"] == "literal_error":
            message = f"{message} (got {detail['input']!r})"
        raise ConfigError(src.file, source.dotted(loc), message, src.line_of(loc)) from None


Problem = tuple[source.Source, source.FieldPath, str]
"""A problem in a file: (the file, the field, the reason)."""


def _in_data(data: object, loc: tuple[int | str, ...]) -> source.FieldPath:
    """`loc` without pydantic's union member tags (`timeout.constrained-str`,
    `retries.Retries.attempts`, `timeout.literal[False]`): a tag is no key of the file's
    data at that point, and no field of ours is spelled like one (capitalised, or with `-`,
    `[`)."""
    out: list[int | str] = []
    for part in loc:
        here = isinstance(data, dict) and part in data
        if not here and _member_tag(part):
            continue
        out.append(part)
        data = _child(data, part)
    return tuple(out)


def _child(data: object, part: int | str) -> object:
    """The data at `part` of `data`, or None where the file has none."""
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return None


def _member_tag(part: int | str) -> bool:
    """A union member's name in a pydantic error location, never a field of ours."""
    if isinstance(part, int):
        return False
    return part[:1].isupper() or "-" in part or "[" in part or part in ("str", "int", "bool")


def _problems(env: Environment) -> Iterator[Problem]:
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
            yield from _named(ns.raw, (), istio_checks.services_problems(ns.services, at))
    if env.spec.ingress and not any(s.ingress for s in env.services):
        yield (
            env.raw,
            ("services",),
            "no service has an `ingress` route: the ingress would serve nothing",
        )


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
    yield from exercises.experiment_problems(spec, env.policy)
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
