"""A service's effective settings, and the traced view they are read through.

What synth renders for a service is its own field, else its namespace's `defaults:`, else
the policy's (the profile's, with the file's `policy:` merged on top): `model.FALLBACKS`.
`Effective` answers it for one environment, through the traced view (view.py), so that every
value read knows the path its access took and the file that wrote it (a team's, the
platform's), for provenance.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from charts_py import provenance
from charts_py.config import origin, source, teams, view
from charts_py.config.model import (
    FALLBACKS,
    Alerts,
    Autoscaling,
    ConnectionPool,
    EnvironmentFile,
    OutlierDetection,
    Resources,
    Retries,
    Service,
)

if TYPE_CHECKING:
    from charts_py.config.environment import Environment


@dataclass(frozen=True)
class Settings:
    """A service's effective resilience, sizing and alerting: its own values, else its
    namespace's defaults, else the policy's."""

    resources: Resources
    autoscaling: Autoscaling | None
    timeout: str | None
    retries: Retries | None
    outlier_detection: OutlierDetection | None
    alerts: Alerts | None
    connection_pool: ConnectionPool | None
    load_balancer: str | None
    """None: switched off (`false`) at some level, or not set by any."""


class Effective:
    """The traced view of one environment's files (the platform's and its teams'), with the
    fallbacks applied; origins are resolved once per (file, path, override)."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._origins: dict[object, provenance.Origin] = {}

    def settings(self, service: Service) -> Settings:
        """Effective settings of `service`: its own fields, else its namespace's defaults,
        else the policy's (FALLBACKS); `false` at any level is none."""
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
            raise KeyError(f"{type(obj).__name__} is not a part of environment {self._env.name!r}")
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

    @functools.cached_property
    def _root(self) -> view.View:
        """The whole platform file as synth sees it: its sections, with the policy and the
        mesh completed by the profile."""
        top = {
            (info.alias or name): getattr(self._env.spec, name)
            for name, info in EnvironmentFile.model_fields.items()
        }
        top |= {"policy": self._env.policy, "mesh": self._env.mesh}
        return self._view(top, self._env.raw)

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
        for ns in self._env.namespaces[1:]:
            root = self._root if ns.raw is self._env.raw else self._team_root(ns.raw)
            out |= {id(svc): (root, (*ns.at, i)) for i, svc in enumerate(ns.services)}
        return out

    def _team_root(self, src: source.Source) -> view.View:
        team = next(t for t in self._env.team_files if t.raw is src)
        return self._view({"namespaces": team.spec.namespaces}, src)

    def _fallback(
        self, src: source.Source, model: BaseModel, name: str, override: source.FieldPath
    ) -> view.View | None:
        """A service's field it leaves out is its namespace's default of the same name, else
        the policy's (FALLBACKS), still overridable by the service's own (in `src`, the
        service's file)."""
        if isinstance(model, Service) and name in FALLBACKS:
            if name == "autoscaling" and model.workload is not None:
                return None  # pods deployed by others: an HPA only when the service asks
            found, file = self._namespace_default(self._env.home(model), name)
            resolve = functools.partial(self._origin, file, override_in=src)
            return found.seen_from(override, resolve)
        return None

    def dataplane(self, ns: teams.Namespace) -> view.View:
        """The data plane of `ns`, traced: its own `dataplane`, else the policy's."""
        if ns.spec is not None and ns.spec.dataplane is not None:
            return self.block(ns).step("dataplane")
        return self._root.step("policy").step("dataplane")

    def namespace_default(self, ns: teams.Namespace, name: str) -> view.View:
        """The setting `name` (of FALLBACKS) of namespace `ns` as a whole: its block's
        `defaults:`, else the policy's (what its services fall back to)."""
        return self._namespace_default(ns, name)[0]

    def _namespace_default(self, ns: teams.Namespace, name: str) -> tuple[view.View, source.Source]:
        """`namespace_default`, and the file it is read from."""
        defaults = ns.spec.defaults if ns.spec else None
        if defaults is not None and getattr(defaults, name) is not None:
            found: view.View = getattr(self.block(ns).step("defaults"), name)
            return found, ns.raw
        return getattr(self._root.step("policy"), name), self._env.raw

    def block(self, ns: teams.Namespace) -> view.View:
        """The traced view of a namespace's block (`namespaces[i]` of its file)."""
        root = self._root if ns.raw is self._env.raw else self._team_root(ns.raw)
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
            team_file = None if narrowest is self._env.raw else narrowest.file
            found = origin.resolve(src, self._env.spec.profile, path, override, team_file)
            self._origins[key] = found
        return found
