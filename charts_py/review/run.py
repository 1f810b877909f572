"""`meshops review`: compare dist/ at two sides, environment by environment, in mesh terms.

The cost follows the change: git lists the files that differ between the two trees (blob ids,
not contents), and only those are parsed, plus the policies and routes of a changed cluster
that blast radius asks for. A side whose dist/ is stale is rendered whole instead (sides.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charts_py import contract, gitrepo, provenance
from charts_py.config import source as env_source
from charts_py.errors import ConfigError
from charts_py.objectref import ObjectRef
from charts_py.review import classify, radius, sides
from charts_py.review.context import BASE
from charts_py.review.model import KINDS, BlastRadius, Change, Located, Reported, Review, Side

Obj = dict[str, Any]
_ENV_LABEL, _CLUSTER_LABEL = "meshops.dev/environment", "meshops.dev/cluster"


@dataclass(frozen=True, kw_only=True)
class Options:
    """What to compare; every field's default is what `meshops review` does without flags."""

    base: str | None = None
    """A git ref; None: the merge base of the head commit and the default branch."""
    head: str | None = None
    """A git ref; None: the working tree."""
    envs: tuple[str, ...] = ()
    """Only these environments; () for every environment with a change."""
    repo: Path | None = None
    """The repository (None: the one around the current directory)."""
    dist: str = "dist"
    environments: str = "environments"


def run(options: Options) -> Review:
    """The review of `options.base` -> `options.head`; ConfigError on bad input."""
    repo = gitrepo.open_repo(options.repo)
    head = sides.open_tree(repo, options.head, "--head")
    base = _base(repo, options, head)
    assert base.side.commit is not None
    changed = gitrepo.changed(
        repo, base.side.commit, head.side.commit, [options.dist, options.environments]
    )
    for tree, option in ((base, "--base"), (head, "--head")):
        if not tree.has_folder(options.dist):
            where = tree.side.shown
            raise ConfigError(f"{options.dist}/", option, f"no {options.dist}/ at {where}")
    located: list[Located] = []
    notes: list[str] = []
    sources: dict[tuple[str, str, str], dict[str, Any]] = {}
    radii: dict[tuple[str, str], radius.Cluster] = {}
    for env in _environments(base, head, changed, options):
        compared = _Compared(sides.load(base, env, options.dist, options.environments),
                             sides.load(head, env, options.dist, options.environments))  # fmt: skip
        notes += [n for n in (compared.base.note, compared.head.note) if n]
        located += compared.run(changed)
        radii |= {(env, c): r for c, r in compared.clusters.items()}
        sources |= compared.sources
    located += _bootstrap(base, head, changed, options)
    reported = _merge(_collapse(located), radii, sources)
    shown = tuple(sorted({c.env for c in reported}))
    return Review(base.side, head.side, tuple(reported), tuple(notes), shown)


def _base(repo: gitrepo.Repo, options: Options, head: sides.Tree) -> sides.Tree:
    """`--base`, else the merge base of the head and the default branch."""
    if options.base is not None:
        return sides.open_tree(repo, options.base, "--base")
    branch = gitrepo.default_branch(repo)
    if branch is None:
        raise ConfigError(
            "--base", "", "no default branch (origin/HEAD, main or master): give --base"
        )
    tip = head.side.commit or gitrepo.resolve(repo, "HEAD")
    commit = gitrepo.merge_base(repo, branch, tip)
    return sides.Tree(repo, Side(f"merge-base({branch})", commit))


def _environments(
    base: sides.Tree, head: sides.Tree, changed: list[str], options: Options
) -> list[str]:
    """The environments with a changed file, checked against `--env` (present at both sides)."""
    touched = _touched(changed, options)
    for env in options.envs:
        for tree, option in ((base, "--base"), (head, "--head")):
            present = tree.has_folder(f"{options.dist}/{env}") or bool(
                tree.read([f"{options.environments}/{env}.yaml"])
            )
            if not present:
                reason = f"no environment {env!r} at {option.removeprefix('--')} {tree.side.shown}"
                raise ConfigError(f"{options.dist}/{env}", "--env", reason)
    return sorted(touched & set(options.envs) if options.envs else touched)


def _touched(changed: list[str], options: Options) -> set[str]:
    """Environments whose dist/ folder or environment file has a changed file."""
    touched = set()
    for path in changed:
        top, _, rest = path.partition("/")
        if top == options.dist and "/" in rest and not rest.startswith(contract.BOOTSTRAP_DIR):
            touched.add(rest.split("/", 1)[0])
        elif top == options.environments and rest.endswith(".yaml") and rest.count("/") <= 1:
            touched.add(
                rest.removesuffix(".yaml").split("/", 1)[0]
            )  # <env>.yaml, <env>/<team>.yaml
    return touched


@dataclass
class _Compared:
    """One environment, both sides: the located changes, each cluster's context, sources."""

    base: sides.EnvSide
    head: sides.EnvSide
    clusters: dict[str, radius.Cluster] = field(default_factory=dict)
    sources: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def run(self, changed: list[str]) -> list[Located]:
        if self.base.rendered is None and self.head.rendered is None:
            prefix = f"{self.head.dist}/{self.head.env}/"
            paths = [p for p in changed if p.startswith(prefix)]
        else:
            paths = sorted(set(self.base.paths()) | set(self.head.paths()))
        old = _keyed(self.base.objects(paths))
        new = _keyed(self.head.objects(paths))
        out: list[Located] = []
        for key in sorted(old.keys() | new.keys()):
            (was_at, before), (now_at, after) = old.get(key, ("", None)), new.get(key, ("", None))
            if before == after:
                continue  # reformatted, reordered or only a comment: nothing to review
            cluster = key[0]
            ctx = self.clusters.setdefault(
                cluster, radius.for_cluster(self.base, self.head, cluster)
            )
            for change in classify.judge(before, after, ctx):
                if change.kind == "object-removed" and _rerouted(key, new.keys() - old.keys()):
                    change = classify.rerouted(change, key[1][3])
                out.append(self._located(change, cluster, before, after, now_at or was_at))
        return out

    def _located(
        self, change: Change, cluster: str, before: Obj | None, after: Obj | None, path: str
    ) -> Located:
        obj = after if after is not None else before
        assert obj is not None
        ref = ObjectRef.of(obj)
        side, paths = (self.head if after is not None else self.base), change.paths
        if change.source_at is not None:
            at, pointer = change.source_at
            side, paths = (self.base if at == BASE else self.head), (pointer,)
        source = _source(side, cluster, ref, paths)
        if "generated" in source and side is self.head and before is not None:
            # A field taken away at the head (a route's timeout) was written at the base.
            was = _source(self.base, cluster, ref, paths)
            source = was if "field" in was else source
        self.sources[(self.head.env, cluster, f"{path}#{change.paths[0]}")] = source
        # A Namespace's change (its data plane, its revision) is about everything in it.
        namespace = ref.name if ref.kind == "Namespace" else ref.namespace
        return Located(
            change, self.head.env, cluster, change.service or _service(obj, side, path),
            namespace, ref, path, removed=after is None,
        )  # fmt: skip


def _rerouted(key: tuple[str, Any], added: set[tuple[str, Any]]) -> bool:
    """A VirtualService removed where a Gateway API route of its name is added: its service
    moved to ambient, whose waypoint routes by HTTPRoute or GRPCRoute (the same name)."""
    cluster, (_, kind, namespace, name) = key
    return kind == "VirtualService" and any(
        (c, k[0], k[2], k[3]) == (cluster, classify.GATEWAY_API_GROUP, namespace, name)
        for c, k in added
        if k[1] in classify.GATEWAY_API_ROUTES
    )


def _keyed(objects: dict[str, Obj]) -> dict[tuple[str, Any], tuple[str, Obj]]:
    """Objects by (cluster, identity), so one that moved to another chart folder is one object."""
    return {(p.split("/")[2], ObjectRef.of(o).key): (p, o) for p, o in objects.items()}


def _service(obj: Obj, side: sides.EnvSide, path: str) -> str | None:
    """The service an object belongs to, from Istio's and Kubernetes' own fields."""
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind in ("VirtualService", "DestinationRule", "ServiceEntry"):
        host = spec.get("host") or next(iter(spec.get("hosts") or []), None)
        if host:
            host = str(host)
            return (
                host.split(".", 1)[0]
                if host.endswith(".svc.cluster.local") or "." not in host
                else host
            )
    if kind in ("Service", "ServiceAccount"):
        return str((obj.get("metadata") or {}).get("name"))
    if kind in ("HTTPRoute", "GRPCRoute", "AuthorizationPolicy"):
        # GAMMA routes and waypoint policies name their Service (parentRefs, targetRefs);
        # an ingress route, its first backend
        refs = spec.get("parentRefs") or spec.get("targetRefs") or []
        named = [r.get("name") for r in refs if isinstance(r, dict) and r.get("kind") == "Service"]
        backends = [b for r in spec.get("rules") or [] for b in (r or {}).get("backendRefs") or []]
        if named or (kind != "AuthorizationPolicy" and backends):
            return str(named[0] if named else (backends[0] or {}).get("name"))
    if kind == "HorizontalPodAutoscaler":
        target = spec.get("scaleTargetRef") or {}
        ref = ObjectRef(
            "apps/v1",
            str(target.get("kind")),
            ObjectRef.of(obj).namespace,
            str(target.get("name")),
        )
        folder = path.rsplit("/", 1)[0]
        found = side.objects([f"{folder}/{ref.file_name()}"])
        return _service(next(iter(found.values())), side, path) if found else ref.name
    labels = (
        (spec.get("selector") or {}).get("matchLabels")
        or (spec.get("workloadSelector") or {}).get("labels")
        or ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        or (obj.get("metadata") or {}).get("labels")
        or {}
    )
    app = labels.get("app") or labels.get("app.kubernetes.io/name")
    return str(app) if app else None


def _source(
    side: sides.EnvSide, cluster: str, ref: ObjectRef, paths: tuple[str, ...]
) -> dict[str, Any]:
    """Where the change's value comes from: the environment file's line and field that the
    side file records at (or under) its pointers; for a whole object, the common field."""
    key = provenance.ref_key(ref)
    recorded = side.recorded(cluster, [key])
    if recorded is None or key not in recorded.objects:
        return {"generated": "unknown: no provenance side file for this object"}
    fields = recorded.objects[key].fields
    hits = [o for at, o in sorted(fields.items()) if any(_related(at, p) for p in paths)]
    env_fields = [o for o in hits if isinstance(o, provenance.EnvField)]
    if paths == ("",) and env_fields:
        return _common(side, env_fields)
    chosen = (env_fields or hits or [recorded.source_of(ref, paths[0])])[0]
    return provenance.origin_to_json(chosen)


def _related(recorded: str, changed: str) -> bool:
    return (
        recorded == changed
        or recorded.startswith(changed + "/")
        or changed.startswith(recorded + "/")
    )


def _common(side: sides.EnvSide, fields: list[provenance.EnvField]) -> dict[str, Any]:
    """The innermost field every one of `fields` is in (`services[2]`), with its line."""
    paths = [f.path for f in fields]
    common: list[str | int] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
        if isinstance(parts[0], int):
            break  # the list item (a service, an external service) that made the object
    name = env_source.dotted(tuple(common))
    line = side.line_of(fields[0].file, tuple(common)) if common else fields[0].line
    return {"file": fields[0].file, "line": line, "field": name or fields[0].field}


def _bootstrap(
    base: sides.Tree, head: sides.Tree, changed: list[str], options: Options
) -> list[Located]:
    """Changed files of dist/_bootstrap (Argo CD and the control-plane Applications), each
    under the environment and cluster its labels name; read as committed (no digest)."""
    prefix = f"{options.dist}/{contract.BOOTSTRAP_DIR}/"
    paths = [p for p in changed if p.startswith(prefix) and p.endswith(".yaml")]
    if not paths:
        return []
    old = {ObjectRef.of(o).key: (p, o) for p, o in _read(base, paths).items()}
    new = {ObjectRef.of(o).key: (p, o) for p, o in _read(head, paths).items()}
    out = []
    ctx = radius.Cluster(None, None)
    for key in sorted(old.keys() | new.keys()):
        (was_at, before), (now_at, after) = old.get(key, ("", None)), new.get(key, ("", None))
        if before == after:
            continue
        obj = after if after is not None else before
        assert obj is not None  # one side has it
        labels = (obj.get("metadata") or {}).get("labels") or {}
        env = str(labels.get(_ENV_LABEL) or contract.BOOTSTRAP_DIR)
        if options.envs and env not in options.envs:
            continue
        ref = ObjectRef.of(obj)
        for change in classify.judge(before, after, ctx):
            out.append(
                Located(
                    change,
                    env,
                    str(labels.get(_CLUSTER_LABEL, "")),
                    None,
                    ref.namespace,
                    ref,
                    now_at or was_at,
                    removed=after is None,
                )
            )
    return out


def _read(tree: sides.Tree, paths: list[str]) -> dict[str, Obj]:
    return {p: sides._parsed(p, data) for p, data in tree.read(paths).items()}


def _collapse(located: list[Located]) -> list[Located]:
    """A service added (or removed) whole is one object-added (object-removed) change: every
    change of its added (removed) objects, in each cluster, joins it."""
    whole: dict[tuple[str, str, str | None], Change] = {}
    for loc in located:
        if loc.ref.kind == "Service" and loc.change.kind in ("object-added", "object-removed"):
            name = f"service {loc.ref.name}"
            risk, why = (
                (loc.change.risk, f"{name} is added") if loc.change.kind == "object-added"
                else (loc.change.risk, f"{name}, which serves traffic, is removed")
            )  # fmt: skip
            before, after = (None, name) if loc.change.kind == "object-added" else (name, None)
            whole[(loc.env, loc.cluster, loc.service)] = Change(
                loc.change.kind, before, after, risk, why, ("",)
            )
    out = []
    for loc in located:
        service, joined = next(
            ((svc, c) for (env, cluster, svc), c in whole.items()
             if (env, cluster) == (loc.env, loc.cluster)
             and (svc == loc.service or _named_for(loc.ref.name, svc))),
            (loc.service, None),
        )  # fmt: skip
        added = (
            loc.change.paths == ("",)
            and not loc.removed
            and joined
            and joined.kind == "object-added"
        )
        gone = (
            loc.change.paths == ("",) and loc.removed and joined and joined.kind == "object-removed"
        )
        if joined and (added or gone):
            loc = Located(
                joined,
                loc.env,
                loc.cluster,
                service,
                loc.namespace,
                loc.ref,
                loc.file,
                loc.removed,
            )
        out.append(loc)
    return out


def _named_for(name: str, service: str | None) -> bool:
    """Objects named for a service (`reviews-v2`, `reviews-slo`) that select nothing."""
    return service is not None and (name == service or name.startswith(service + "-"))


def _merge(
    located: list[Located],
    radii: dict[tuple[str, str], radius.Cluster],
    sources: dict[tuple[str, str, str], dict[str, Any]],
) -> list[Reported]:
    """Changes equal but for their cluster become one, listing the clusters."""
    groups: dict[str, list[Located]] = {}
    for loc in located:
        c = loc.change
        src = {} if _whole(c) else sources.get(_at(loc), {})
        key = json.dumps(
            [loc.env, loc.service, loc.namespace, c.kind, c.before, c.after, c.risk, c.why, src],
            sort_keys=True, default=str,
        )  # fmt: skip
        groups.setdefault(key, []).append(loc)
    out = []
    for members in groups.values():
        first = members[0]
        c = first.change
        found = [sources.get(_at(m), {}) for m in members]
        fields = sorted((len(f["field"]), i) for i, f in enumerate(found) if "field" in f)
        src = found[fields[0][1]] if _whole(c) and fields else found[0]
        blast = _blast(members, radii)
        objects = tuple(_object(m) for m in members)
        clusters = tuple(sorted({m.cluster for m in members if m.cluster}))
        out.append(
            Reported(
                first.env,
                clusters,
                first.service,
                first.namespace,
                c.kind,
                c.before,
                c.after,
                c.risk,
                c.why,
                blast,
                src or {"generated": "bootstrap: derived from every environment"},
                objects,
            )
        )
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(out, key=lambda r: (r.env, -r.risk, r.service or "", order[r.kind], r.clusters))


def _whole(change: Change) -> bool:
    return change.kind in ("object-added", "object-removed")


def _at(loc: Located) -> tuple[str, str, str]:
    return (loc.env, loc.cluster, loc.file + "#" + loc.change.paths[0])


def _blast(members: Iterable[Located], radii: dict[tuple[str, str], radius.Cluster]) -> BlastRadius:
    callers: set[str] = set()
    hosts: set[str] = set()
    for m in members:
        cluster = radii.get((m.env, m.cluster))
        if cluster is None:
            continue
        found = cluster.radius(m.service, m.namespace, m.removed)
        callers |= set(found.callers)
        hosts |= set(found.ingress_hosts)
    return BlastRadius(tuple(sorted(callers)), tuple(sorted(hosts)))


def _object(loc: Located) -> dict[str, Any]:
    paths = [p for p in loc.change.paths if p]
    return {**loc.ref.to_json(), "cluster": loc.cluster, "file": loc.file, "paths": paths}
