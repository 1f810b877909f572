"""Load environment files into validated `Environment`s, or fail with one precise line.

Validation happens in three passes, each naming file, field and line on failure: the YAML
itself (source.py), the typed shape (shape.py, against model.py), then the rules that need the
whole environment (checks.py). A loaded `Environment` answers questions about its services
(namespaces, callers, experiments); their effective settings and the traced view synth reads
them through are settings.py's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from charts_py import provenance, yamlio
from charts_py.config import checks, exercises, profiles, shape, source, teams, view
from charts_py.config.istio_objects import Extension
from charts_py.config.model import (
    Drift,
    EnvironmentFile,
    Experiment,
    Mesh,
    NamespaceWide,
    Policy,
    Service,
    TeamFile,
)
from charts_py.config.settings import Effective, Settings
from charts_py.errors import ConfigError

ENV_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$")


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

    @property
    def wide_blocks(self) -> list[NamespaceWide]:
        """Every block of namespace-wide lists: the top level's, then each namespace's."""
        return [self.spec, *(ns.spec for ns in self.namespaces if ns.spec is not None)]

    @property
    def extensions(self) -> list[Extension]:
        """Every namespace-wide `extensions:` entry: the top level's, then each namespace's."""
        blocks = [ns.spec for ns in self.namespaces if ns.spec is not None]
        return [*self.spec.extensions, *(e for block in blocks for e in block.extensions)]

    @functools.cached_property
    def namespaces_by_name(self) -> dict[str, teams.Namespace]:
        """Every application namespace by name."""
        return {ns.name: ns for ns in self.namespaces}

    def dataplane(self, ns: teams.Namespace) -> view.View:
        """The data plane of `ns`, traced: its own `dataplane`, else the policy's."""
        return self._effective.dataplane(ns)

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
        """Fault experiments on `service`, its `fault:` shorthand included (exercises.py):
        those its namespace's block declares (the platform's: the top level's)."""
        home = self.home(service).spec
        return exercises.of_service(home.experiments if home else self.spec.experiments, service)

    def load_tested(self, service: Service) -> bool:
        """Whether a load test of this environment targets `service` (it must admit the Job)."""
        if self.namespace_of(service) != self.spec.namespace:
            return False  # load tests target the platform's namespace (exercises.py)
        return any(t.target == service.name for t in self.spec.load_tests)

    def settings(self, service: Service) -> Settings:
        """Effective settings of `service` (settings.py): its own fields, else its
        namespace's defaults, else the policy's; `autoscaling: false` is none."""
        return self._effective.settings(service)

    def namespace_default(self, ns: teams.Namespace, name: str) -> view.View:
        """The setting `name` (of FALLBACKS) of namespace `ns` as a whole: its block's
        `defaults:`, else the policy's (what its services fall back to)."""
        return self._effective.namespace_default(ns, name)

    def block(self, ns: teams.Namespace) -> view.View:
        """The traced view of a namespace's block (`namespaces[i]` of its file)."""
        return self._effective.block(ns)

    def traced(self, obj: BaseModel) -> view.View:
        """A traced view of `obj`, a part of this environment (a service, a cluster, the
        policy, the mesh, the ingress, ...): what is read through it records its own path."""
        return self._effective.traced(obj)

    def at(self, path: source.FieldPath) -> view.View:
        """The traced view at model path `path` of the platform file, e.g.
        `("services", 6, "timeout")` (the service's own value, else the policy's)."""
        return self._effective.at(path)

    def origin(self, path: source.FieldPath) -> provenance.Origin:
        """Where the effective value at model path `path` of the platform file comes from."""
        return self.at(path).origin

    @functools.cached_property
    def _effective(self) -> Effective:
        return Effective(self)


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
    return shape.validated(Drift, src.data.get("drift", {}), src, ("drift",))


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
        for at, path, reason in checks.problems(env)
    ]


def _load(src: source.Source, name: str, team_sources: Sequence[source.Source] = ()) -> Environment:
    env = _built(src, name, team_sources)
    for at, field_path, reason in checks.problems(env):
        raise ConfigError(at.file, source.dotted(field_path), reason, at.line_of(field_path))
    return env


def _built(
    src: source.Source, name: str, team_sources: Sequence[source.Source] = ()
) -> Environment:
    """The environment of a file whose shape and teams are valid (the cross-field rules are
    `checks.problems`)."""
    shown = src.file
    if not ENV_NAME.match(name):
        raise ConfigError(shown, "", f"environment name {name!r} must be a DNS label")
    if not isinstance(src.data, dict):
        raise ConfigError(shown, "", "expected a mapping at the top level", 1)
    spec = shape.validated(EnvironmentFile, src.data, src, ())
    policy_data = profiles.merged(spec.profile, dict(spec.policy))
    policy = shape.validated(Policy, policy_data, src, ("policy",))
    mesh_data = profiles.merged_mesh(spec.profile, dict(spec.mesh))
    mesh = shape.validated(Mesh, mesh_data, src, ("mesh",))
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
    return teams.TeamSource(name, shape.validated(TeamFile, src.data, src, ()), src)


def load_all(directory: Path) -> dict[str, Environment]:
    """Every `*.yaml` environment in `directory`, by name, checked for agreement."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(str(directory), "", "no environment files (*.yaml) found")
    envs = {}
    for file in files:
        env = load(file)
        envs[env.name] = env
    checks.check_shared(list(envs.values()))
    return envs


def select(envs: dict[str, Environment], names: Sequence[str], where: str) -> list[Environment]:
    """The environments named (all when none are), or a ConfigError naming the unknown one;
    `where` is the environments folder, for the message."""
    for name in names:
        if name not in envs:
            known = ", ".join(sorted(envs))
            raise ConfigError(f"{where}/{name}.yaml", "", f"no such environment (known: {known})")
    return [envs[n] for n in sorted(set(names))] if names else list(envs.values())
