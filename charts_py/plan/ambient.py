"""`meshops plan-ambient`: per namespace, what moving it from sidecars to ambient changes.

Nothing here is guessed from a table: for each namespace on sidecars the plan makes the
environment-file edit that moves it (`dataplane: ambient`, propose's round-trip editor, so
comments and layout stay), loads the edited files with every problem they would have
(`environment.candidate`), renders both versions of the environment, and reports the
difference: which objects go, which come, which change, grouped by service (what replaces
what), what cannot move and why (the load errors the edit would raise, each naming its rule
and the alternative), and the steps in a safe order, each a small edit `meshops review` can
show once it is committed. The edit is the one a person makes; the test
(tests/unit/test_plan_ambient.py) applies it and finds exactly the objects the plan lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charts_py.config import ambient, environment, origin, source, teams
from charts_py.config.environment import Environment
from charts_py.errors import ConfigError
from charts_py.objectref import ObjectRef
from charts_py.propose import edit
from charts_py.render import synth

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Edit:
    """One field of one environment file set to a value."""

    file: str
    field: source.FieldPath
    value: str
    line: int | None
    """The field's line before the edit (None when the file does not set it yet)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "field": source.dotted(self.field),
            "line": self.line,
            "value": self.value,
        }


@dataclass(frozen=True)
class Move:
    """What moving one namespace to ambient changes, and how to do it."""

    namespace: str
    team: str | None
    dataplane: str
    services: tuple[str, ...] = ()
    edits: tuple[Edit, ...] = ()
    blockers: tuple[ConfigError, ...] = ()
    waypoint: Mapping[str, list[str]] = field(default_factory=dict)
    """Services that would use the namespace's waypoint, with their reasons."""
    removed: tuple[ObjectRef, ...] = ()
    added: tuple[ObjectRef, ...] = ()
    changed: tuple[ObjectRef, ...] = ()

    @property
    def movable(self) -> bool:
        return self.dataplane == "sidecar" and not self.blockers and bool(self.edits)


def plan(environments: Path, name: str) -> list[Move]:
    """The move of every namespace of environment `name` in folder `environments`."""
    envs = environment.load_all(environments)
    env = environment.select(envs, [name], str(environments))[0]
    texts = _texts(env)
    before = _objects(env)
    return [_move(env, ns, texts, before) for ns in env.namespaces]


def _texts(env: Environment) -> dict[str, str]:
    """The environment's files as written, by display path (the platform's first)."""
    files = [env.file, *(team.raw.file for team in env.team_files)]
    return {file: Path(file).read_text(encoding="utf-8") for file in files}


def _objects(env: Environment) -> dict[ObjectRef, dict[str, Any]]:
    """The objects of the environment's first cluster (every cluster holds the same mesh
    layer: charts/mesh.py), by identity."""
    prefix = f"{env.name}/{env.spec.clusters[0].name}/"
    rendered = synth.rendered([env], [env]).manifests
    return {ObjectRef.of(m.obj): m.obj for m in rendered if m.path.startswith(prefix)}


def _move(
    env: Environment,
    ns: teams.Namespace,
    texts: dict[str, str],
    before: dict[ObjectRef, dict[str, Any]],
) -> Move:
    dataplane = str(env.dataplane(ns).plain)
    services = tuple(s.name for s in ns.services)
    edits = switch(env, ns) if dataplane == "sidecar" else ()
    if not edits:
        return Move(ns.name, ns.team, dataplane, services)
    moved, blockers = _edited(env, texts, edits)
    after = _objects(moved)
    target = moved.namespaces_by_name[ns.name]
    reasons = {s.name: ambient.waypoint_reasons(moved, s) for s in target.services}
    return Move(
        ns.name,
        ns.team,
        dataplane,
        services,
        edits=edits,
        blockers=tuple(blockers),
        waypoint={name: found for name, found in reasons.items() if found},
        removed=tuple(sorted(before.keys() - after.keys())),
        added=tuple(sorted(after.keys() - before.keys())),
        changed=tuple(sorted(r for r in before.keys() & after.keys() if before[r] != after[r])),
    )


def switch(env: Environment, ns: teams.Namespace) -> tuple[Edit, ...]:
    """The edits that move `ns` alone to ambient: its block's `dataplane`; for the platform's
    own namespace, which follows the policy, `policy.dataplane` and a `dataplane: sidecar`
    pin on every other namespace that follows the policy today. None when a namespace has no
    block to write to (a team's namespace its team has not described yet)."""
    if ns.spec is not None:
        return (_edit(ns.raw, (*ns.at[:-1], "dataplane"), "ambient"),)
    if ns.name != env.spec.namespace:
        return ()
    pins = [
        _edit(other.raw, (*other.at[:-1], "dataplane"), "sidecar")
        for other in env.namespaces[1:]
        if other.spec is not None and other.spec.dataplane is None
    ]
    return (_edit(env.raw, ("policy", "dataplane"), "ambient"), *pins)


def _edit(src: source.Source, path: source.FieldPath, value: str) -> Edit:
    line = src.line_of(path) if origin.written(src.data, path) else None
    return Edit(src.file, path, value, line)


def _edited(
    env: Environment, texts: dict[str, str], edits: tuple[Edit, ...]
) -> tuple[Environment, list[ConfigError]]:
    """The environment with `edits` made, and every problem it then has."""
    changed = dict(texts)
    for one in edits:
        changed[one.file] = apply(changed[one.file], one)
    platform = changed.pop(env.file)
    return environment.candidate(platform, env.name, env.file, changed)


def apply(text: str, one: Edit) -> str:
    """`text` (the file `one` names) with the edit made, everything else as written."""
    return edit.set_fields(text, [(one.field, one.value)], lambda _: {})


def replaced(move: Move) -> list[dict[str, Any]]:
    """The objects that go, come and change, per service of the namespace (an object named
    after a service, or `<service>-<suffix>`), the rest under the namespace itself."""
    groups: dict[str, dict[str, list[dict[str, str]]]] = {}
    services = list(move.services)
    for what, refs in (("removed", move.removed), ("added", move.added), ("changed", move.changed)):
        for ref in refs:
            owner = _owner(ref, move.namespace, services)
            found = groups.setdefault(owner, {"removed": [], "added": [], "changed": []})
            found[what].append(ref.to_json())
    return [{"service": owner or None, **found} for owner, found in sorted(groups.items())]


LOST = {
    "Sidecar": (
        "egress scoping has no ambient equivalent: ztunnel neither limits a pod's outbound "
        "hosts nor enforces REGISTRY_ONLY; restrict egress with an egress gateway or a "
        "NetworkPolicy"
    ),
    "EnvoyFilter": "EnvoyFilter applies to neither ztunnel nor waypoints",
}
"""Why an object a move removes takes something with it that nothing in ambient replaces."""


def lost(move: Move) -> list[dict[str, Any]]:
    """The removed objects whose job nothing in ambient does, and why."""
    return [{**ref.to_json(), "why": LOST[ref.kind]} for ref in move.removed if ref.kind in LOST]


def steps(move: Move) -> list[dict[str, Any]]:
    """The safe order: what blocks the move first (each fixed in sidecar mode, where the fix
    changes nothing that runs on ambient), then the edit itself (synth, review, merge: Argo CD
    syncs the namespace label, the waypoint, routes and policies), then the pods' restart (a
    pod keeps the sidecar it started with; ztunnel serves it once it restarts without)."""
    if not move.edits:
        return []
    out: list[dict[str, Any]] = [
        {
            "do": "fix",
            "file": problem.file,
            "line": problem.line,
            "field": problem.field,
            "why": problem.reason,
        }
        for problem in move.blockers
    ]
    out.append(
        {
            "do": "edit",
            "edits": [one.to_json() for one in move.edits],
            "why": f"move namespace {move.namespace} to ambient; then `meshops synth`, commit "
            "environments/ and dist/ together: `meshops review` shows the change",
        }
    )
    if move.waypoint:
        out.append(
            {
                "do": "run",
                "command": f"kubectl wait --for=condition=Programmed -n {move.namespace} "
                f"gateway.gateway.networking.k8s.io/{ambient.WAYPOINT}",
                "why": "istiod has deployed the waypoint the routes and L7 policies run in",
            }
        )
    out.append(
        {
            "do": "run",
            "command": f"kubectl rollout restart deployment -n {move.namespace}",
            "why": "pods restart without sidecars; ztunnel (and the waypoint) serve them",
        }
    )
    return [{"step": i, **one} for i, one in enumerate(out, 1)]


def _owner(ref: ObjectRef, namespace: str, services: list[str]) -> str:
    """The service an object of the namespace belongs to ("" for the namespace's own)."""
    if ref.namespace != namespace:
        return ""
    for name in sorted(services, key=len, reverse=True):
        if ref.name == name or ref.name.startswith(f"{name}-"):
            return name
    return ""
