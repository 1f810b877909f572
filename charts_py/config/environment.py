"""Load environment files into validated `Environment`s, or fail with one precise line.

Validation happens in three passes, each naming file, field and line on failure:
the YAML itself (source.py), the typed shape (model.py), then cross-references and profile
rules that need the whole file (here).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from charts_py import provenance, yamlio
from charts_py.config import exercises, istio_checks, origin, profiles, releases, source, view
from charts_py.config.model import (
    FALLBACKS,
    Alerts,
    Autoscaling,
    Drift,
    EnvironmentFile,
    Experiment,
    Mesh,
    OutlierDetection,
    Policy,
    Resources,
    Retries,
    Service,
    seconds,
)
from charts_py.errors import ConfigError

T = TypeVar("T", EnvironmentFile, Policy, Mesh, Drift)

ENV_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class Settings:
    """A service's effective resilience, sizing and alerting: its own values, else the policy's."""

    resources: Resources
    autoscaling: Autoscaling | None
    timeout: str
    retries: Retries
    outlier_detection: OutlierDetection | None
    alerts: Alerts


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

    @property
    def mesh_id(self) -> str:
        """The meshID every cluster of the environment shares (multi-primary needs one)."""
        return self.mesh.mesh_id or self.name

    @property
    def multi_cluster(self) -> bool:
        return len(self.spec.clusters) > 1

    @functools.cached_property
    def callers(self) -> dict[str, list[str]]:
        """For each service, the sorted names of the services that call it."""
        out: dict[str, list[str]] = {s.name: [] for s in self.spec.services}
        for svc in self.spec.services:
            for callee in svc.calls:
                out[callee].append(svc.name)
        return {name: sorted(names) for name, names in out.items()}

    def experiments(self, service: Service) -> list[Experiment]:
        """Fault experiments on `service`, its `fault:` shorthand included (exercises.py)."""
        return exercises.of_service(self.spec, service)

    def load_tested(self, service: Service) -> bool:
        """Whether a load test of this environment targets `service` (it must admit the Job)."""
        return any(t.target == service.name for t in self.spec.load_tests)

    def settings(self, service: Service) -> Settings:
        """Effective settings of `service`: its own fields, else the policy's (FALLBACKS, read
        through the traced view, which owns the fallback); `autoscaling: false` is none."""
        own = self.traced(service)
        values = {name: getattr(own, name).plain for name in FALLBACKS}
        if values["autoscaling"] is False:
            values["autoscaling"] = None
        return Settings(**values)

    def traced(self, obj: BaseModel) -> view.View:
        """A traced view of `obj`, a part of this environment (a service, a cluster, the
        policy, the mesh, the ingress, ...): what is read through it records its own path."""
        path = self._paths.get(id(obj))
        if path is None:
            raise KeyError(f"{type(obj).__name__} is not a part of environment {self.name!r}")
        return self.at(path)

    def at(self, path: source.FieldPath) -> view.View:
        """The traced view at model path `path`, e.g. `("services", 6, "timeout")` (the
        service's own value, else the policy's), `("policy", "mtlsMode")`."""
        found = self._root
        for key in path:
            found = found.step(key)
        return found

    def origin(self, path: source.FieldPath) -> provenance.Origin:
        """Where the effective value at model path `path` comes from."""
        return self.at(path).origin

    @functools.cached_property
    def _root(self) -> view.View:
        """The whole environment as synth sees it: the file's sections, with the policy and
        the mesh completed by the profile."""
        top = {
            (info.alias or name): getattr(self.spec, name)
            for name, info in EnvironmentFile.model_fields.items()
        }
        top |= {"policy": self.policy, "mesh": self.mesh}
        return view.View(top, (), (), self._origin, self._fallback)

    @functools.cached_property
    def _paths(self) -> dict[int, source.FieldPath]:
        """The model path of each part `traced()` accepts, by identity."""
        out: dict[int, source.FieldPath] = {}
        for key, value in self._root.plain.items():
            out[id(value)] = (key,)
            if isinstance(value, list):
                out |= {id(item): (key, i) for i, item in enumerate(value)}
        return out

    def _fallback(
        self, model: BaseModel, name: str, override: source.FieldPath
    ) -> view.View | None:
        """A service's field it leaves out is the policy's field of the same name (FALLBACKS),
        still overridable by the service's own."""
        if isinstance(model, Service) and name in FALLBACKS:
            policy = self._root.step("policy")
            found = getattr(policy, name)
            return view.View(found.plain, found.where, override, self._origin, self._fallback)
        return None

    def _origin(self, path: source.FieldPath, override: source.FieldPath) -> provenance.Origin:
        """Resolved once per (path, override): every cluster and version asks again."""
        key = (path, override)
        found = self._origins.get(key)
        if found is None:
            found = self._origins[key] = origin.resolve(self.raw, self.spec.profile, path, override)
        return found

    @functools.cached_property
    def _origins(self) -> dict[tuple[source.FieldPath, source.FieldPath], provenance.Origin]:
        return {}


def load(path: Path) -> Environment:
    """Read and validate one environment file; the environment is named after the file."""
    return _load(source.read(path, str(path)), path.stem)


def load_text(text: str, name: str, display: str) -> Environment:
    """Validate an environment file's content (e.g. read from a git commit)."""
    return _load(source.parse(text, display), name)


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


def _load(src: source.Source, name: str) -> Environment:
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
    env = Environment(name=name, file=shown, spec=spec, policy=policy, mesh=mesh, raw=src)
    for field_path, reason in _problems(env):
        raise ConfigError(shown, source.dotted(field_path), reason, src.line_of(field_path))
    return env


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
        loc = (*prefix, *detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        elif detail["type"] == "literal_error":
            message = f"{message} (got {detail['input']!r})"
        raise ConfigError(src.file, source.dotted(loc), message, src.line_of(loc)) from None


def _problems(env: Environment) -> Iterator[tuple[source.FieldPath, str]]:
    """Cross-field rules: unique names, resolvable references, profile limits."""
    spec = env.spec
    yield from _duplicates("clusters", [c.name for c in spec.clusters], "cluster")
    yield from _duplicates("externalServices", [e.name for e in spec.external_services], "name")
    yield from _duplicates("services", [s.name for s in spec.services], "service")
    yield from _duplicates("experiments", [e.name for e in spec.experiments], "experiment")
    yield from _duplicates("loadTests", [t.name for t in spec.load_tests], "load test")
    for i, ext in enumerate(spec.external_services):
        if ext.sensitive and env.policy.egress_gateway and ext.protocol not in ("TLS", "HTTPS"):
            yield (
                ("externalServices", i, "protocol"),
                ("a sensitive host leaves through the egress gateway, which passes TLS only"),
            )
    services = {s.name for s in spec.services}
    externals = {e.name for e in spec.external_services}
    for i, svc in enumerate(spec.services):
        yield from _service_problems(env, i, svc, services, externals)
    yield from _mesh_problems(env.mesh)
    yield from exercises.experiment_problems(spec, env.policy)
    yield from exercises.load_test_problems(spec)
    if env.multi_cluster and env.policy.outlier_detection is None:
        yield (
            ("policy", "outlierDetection"),
            ("locality failover across clusters requires outlier detection"),
        )
    if spec.ingress and not any(s.ingress for s in spec.services):
        yield ("services",), "no service has an `ingress` route: the ingress would serve nothing"
    yield from istio_checks.problems(spec)


def _service_problems(
    env: Environment, i: int, svc: Service, services: set[str], externals: set[str]
) -> Iterator[tuple[source.FieldPath, str]]:
    at: source.FieldPath = ("services", i)
    for j, callee in enumerate(svc.calls):
        if callee not in services:
            yield (*at, "calls", j), f"unknown service {callee!r}"
        elif callee == svc.name:
            yield (*at, "calls", j), "a service does not need to call itself through the mesh"
    for j, ext in enumerate(svc.externals):
        if ext not in externals:
            yield (*at, "externals", j), f"unknown external service {ext!r}"
    if svc.ingress and env.spec.ingress is None:
        yield (*at, "ingress"), "the environment has no `ingress:` to route from"
    yield from istio_checks.routing_problems(svc, at, bool(env.experiments(svc)))
    if svc.queue and svc.queue.broker not in externals:
        yield (*at, "queue", "broker"), f"unknown external service {svc.queue.broker!r}"
    if svc.fault:
        mode = env.policy.fault_injection
        if mode == "forbidden":
            yield (*at, "fault"), f"fault injection is forbidden by the {env.spec.profile} profile"
        elif mode == "header-gated" and not svc.fault.header:
            yield (*at, "fault", "header"), f"the {env.spec.profile} profile requires a header gate"
    settings = env.settings(svc)
    budget = seconds(settings.retries.per_try_timeout) * (settings.retries.attempts + 1)
    if seconds(settings.timeout) < budget:
        yield (
            (*at, "timeout"),
            (
                f"route timeout {settings.timeout} is shorter than the retry budget "
                f"{settings.retries.attempts + 1} x {settings.retries.per_try_timeout}"
            ),
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
    seen: dict[str, str] = {}
    for env in envs:
        for cluster in env.spec.clusters:
            if cluster.name in seen:
                reason = f"cluster {cluster.name!r} is also in {seen[cluster.name]}"
                raise ConfigError(env.file, "clusters", reason)
            seen[cluster.name] = env.file
