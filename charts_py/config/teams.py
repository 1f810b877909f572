"""Teams and their namespaces: which file describes which application namespace.

An environment is one platform file, `environments/<env>.yaml`, and a file per application
team beside it, `environments/<env>/<team>.yaml`. The platform file declares the teams and the
namespaces each owns (`teams:`); a team's file describes only those (`namespaces:`), so a team
can never write another team's or the platform's objects. The platform's own services live in
its `namespace:` (`services:`) and in any `namespaces:` it describes itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from charts_py import kinds
from charts_py.config import installation, source
from charts_py.config.model import AppNamespace, EnvironmentFile, Service, TeamFile
from charts_py.errors import ConfigError

RESERVED = frozenset(
    {part for kind in kinds.MESH_KINDS for part in kind.group.split(".") if part} | {"core", "yaml"}
)
"""Names a team namespace cannot take: they appear in dist file names outside the namespace."""


@dataclass(frozen=True)
class TeamSource:
    """One team's file: its validated content and the file as written."""

    team: str
    spec: TeamFile
    raw: source.Source = field(repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class Namespace:
    """One application namespace of an environment, with the file that describes it."""

    name: str
    team: str | None
    """The team that owns it; None: the platform."""
    services: list[Service]
    spec: AppNamespace | None
    """Its block (`namespaces[i]`), None for the platform's `namespace:` and a team's
    namespace not described yet."""
    raw: source.Source = field(repr=False, compare=False)
    """The file that describes it (the platform's, for a team namespace not yet described)."""
    at: source.FieldPath
    """The path of its `services` list in that file."""

    @property
    def file(self) -> str:
        return self.raw.file

    def switched(self, name: str, policy: bool) -> bool:
        """Whether what the profile adds as `authorization` or `sidecar` is on here: the
        namespace's own switch, else the policy's."""
        own = getattr(self.spec, name) if self.spec else None
        return policy if own is None else bool(own)


def team_dir(platform_file: str) -> str:
    """Where the team files of an environment file live: `environments/prod/` for
    `environments/prod.yaml`."""
    return platform_file.removesuffix(".yaml")


def check_owned(spec: EnvironmentFile, team: TeamSource) -> None:
    """A team's file describes only namespaces the platform file gives that team, each once."""
    src = team.raw
    if team.team not in spec.teams:
        known = ", ".join(sorted(spec.teams)) or "none"
        reason = f"team {team.team!r} is not declared in the platform file's teams: ({known})"
        raise ConfigError(src.file, "", reason, 1)
    owned = spec.teams[team.team].namespaces
    seen: dict[str, int] = {}
    for i, ns in enumerate(team.spec.namespaces):
        at = ("namespaces", i, "name")
        if ns.name not in owned:
            reason = f"namespace {ns.name!r} is not team {team.team}'s (it owns {owned})"
            raise ConfigError(src.file, source.dotted(at), reason, src.line_of(at))
        if ns.name in seen:
            reason = f"duplicate namespace {ns.name!r} (first at namespaces[{seen[ns.name]}])"
            raise ConfigError(src.file, source.dotted(at), reason, src.line_of(at))
        seen[ns.name] = i


def owners(spec: EnvironmentFile) -> Iterator[tuple[source.FieldPath, str]]:
    """Problems of ownership in the platform file: a namespace owned twice, or described by
    the platform although a team owns it."""
    yield from _own_names(spec)
    first: dict[str, str] = {spec.namespace: "the platform (namespace:)"}
    for i, ns in enumerate(spec.namespaces):
        at: source.FieldPath = ("namespaces", i, "name")
        if ns.name in first:
            yield at, f"namespace {ns.name!r} is already {first[ns.name]}'s"
        first.setdefault(ns.name, "the platform (namespaces:)")
    for team, owned in spec.teams.items():
        for j, name in enumerate(owned.namespaces):
            if name in RESERVED:
                yield (
                    ("teams", team, "namespaces", j),
                    f"a team namespace may not be named {name!r}, a segment of the API groups "
                    "in dist/ file names (the team's Argo CD Application selects its files by "
                    "`.<namespace>.`)",
                )
            if name in first:
                yield (
                    ("teams", team, "namespaces", j),
                    f"namespace {name!r} is already {first[name]}'s",
                )
            first.setdefault(name, f"team {team}")


def _own_names(spec: EnvironmentFile) -> Iterator[tuple[source.FieldPath, str]]:
    """Application namespaces named like one meshops renders for itself (istio-system,
    the drift job's, prometheus-adapter's): the two would be one object."""
    declared: list[tuple[source.FieldPath, str]] = [(("namespace",), spec.namespace)]
    declared += [(("namespaces", i, "name"), ns.name) for i, ns in enumerate(spec.namespaces)]
    declared += [
        (("teams", team, "namespaces", j), name)
        for team, owned in spec.teams.items()
        for j, name in enumerate(owned.namespaces)
    ]
    for at, name in declared:
        if name in installation.OWN_NAMESPACES:
            yield (
                at,
                (
                    f"{name!r} is a namespace meshops renders for itself "
                    f"({', '.join(sorted(installation.OWN_NAMESPACES))}): name yours otherwise"
                ),
            )


def resolve(
    spec: EnvironmentFile, raw: source.Source, teams: Mapping[str, TeamSource]
) -> list[Namespace]:
    """Every application namespace: the platform's, then each team's in the order the
    platform file declares them (a team's namespace it has not described yet has no
    services, and still exists)."""
    out = [
        Namespace(
            name=spec.namespace,
            team=None,
            services=spec.services,
            spec=None,
            raw=raw,
            at=("services",),
        )
    ]
    out += [_described(ns, None, raw, ("namespaces", i)) for i, ns in enumerate(spec.namespaces)]
    for team, owned in spec.teams.items():
        found = teams.get(team)
        described = {ns.name: i for i, ns in enumerate(found.spec.namespaces)} if found else {}
        for name in owned.namespaces:
            if found is not None and name in described:
                i = described[name]
                ns = found.spec.namespaces[i]
                out.append(_described(ns, team, found.raw, ("namespaces", i)))
            else:
                out.append(
                    Namespace(
                        name=name,
                        team=team,
                        services=[],
                        spec=None,
                        raw=raw,
                        at=("teams", team, "namespaces"),
                    )
                )
    return out


def _described(
    ns: AppNamespace, team: str | None, raw: source.Source, at: source.FieldPath
) -> Namespace:
    return Namespace(
        name=ns.name, team=team, services=ns.services, spec=ns, raw=raw, at=(*at, "services")
    )
