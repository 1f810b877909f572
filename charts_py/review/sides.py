"""The two sides of a review: dist/ at a commit or in the working tree, per environment,
checked to be current with that side's environment file, and rendered instead where not.

"Current" is cheap to know: synth records in each provenance side file the digest of the
environment file's content it rendered (`provenance.digest`); a side whose side files all
name the digest of its own environment file is current, and is read as committed. Anything
else (an edited file not synthesised, side files from before digests) is rendered from that
side's environment file with this meshops, and the review says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from charts_py import contract, gitrepo, provenance, yamlio
from charts_py.errors import ConfigError
from charts_py.review.model import Side

Obj = dict[str, Any]
WORKTREE = "working tree"


@dataclass(frozen=True)
class Tree:
    """Files of one side: a commit's blobs, or the working tree's files."""

    repo: gitrepo.Repo
    side: Side
    _entries: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The files at `paths` that exist at this side."""
        if self.side.commit is not None:
            return gitrepo.read_files(self.repo, self.side.commit, paths)
        root = gitrepo.root(self.repo)
        return {p: (root / p).read_bytes() for p in paths if (root / p).is_file()}

    def listing(self, folder: str, *, recursive: bool = True) -> list[str]:
        """Paths under `folder` (not recursive: its entries, files and folders; each folder's
        read once, from its tree object at a commit)."""
        if self.side.commit is not None:
            if recursive:
                return gitrepo.list_files(self.repo, self.side.commit, [folder])
            if folder not in self._entries:
                self._entries[folder] = gitrepo.entries(self.repo, self.side.commit, folder)
            return self._entries[folder]
        root = gitrepo.root(self.repo)
        where = root / folder
        if not where.is_dir():
            return []
        found = where.rglob("*") if recursive else where.iterdir()
        return sorted(p.relative_to(root).as_posix() for p in found if p.is_file() or not recursive)

    def has_folder(self, folder: str) -> bool:
        return bool(self.listing(folder, recursive=False))


def open_tree(repo: gitrepo.Repo, ref: str | None, option: str) -> Tree:
    """The side `ref` names (None: the working tree), or a ConfigError naming `option`."""
    if ref is None:
        gitrepo.root(repo)  # a bare repository has no working tree
        return Tree(repo, Side(WORKTREE, None))
    try:
        return Tree(repo, Side(ref, gitrepo.peel(repo, ref)))
    except ConfigError as exc:
        raise ConfigError(exc.file, option, exc.reason) from None


@dataclass
class EnvSide:
    """One environment at one side: its dist/ files as committed, or rendered instead."""

    tree: Tree
    env: str
    dist: str
    environments: str
    clusters: list[str] = field(default_factory=list)
    env_text: str | None = None
    team_texts: dict[str, str] = field(default_factory=dict)
    """The teams' files beside the environment file (`environments/<env>/<team>.yaml`)."""
    nodes: dict[str, yaml.Node | None] = field(default_factory=dict, repr=False)
    """Each input file's node tree, by path: the line of each field, for sources."""
    side_files: dict[str, bytes] = field(default_factory=dict)
    """Provenance side file bytes per cluster."""
    rendered: dict[str, Obj] | None = None
    """Every object by dist path, when this side was rendered instead of read."""
    note: str | None = None
    _found: dict[tuple[tuple[str, ...], tuple[str, ...], bool, str], list[str]] = field(
        default_factory=dict, repr=False
    )
    """The dist paths each search found (`find`), by what was searched."""
    _charts: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)
    """Per cluster, the files outside the services chart (`beside`)."""
    _read: dict[str, Obj] = field(default_factory=dict, repr=False)
    """Every manifest read so far, by dist path: each is read and parsed once."""

    @property
    def exists(self) -> bool:
        return bool(self.clusters) or self.env_text is not None

    @property
    def env_file(self) -> str:
        return f"{self.environments}/{self.env}.yaml"

    def objects(self, paths: Iterable[str]) -> dict[str, Obj]:
        """The manifests at `paths` (dist paths) at this side, parsed; absent ones left out."""
        wanted = [p for p in paths if is_manifest(p, self.dist)]
        if self.rendered is not None:
            return {p: self.rendered[p] for p in wanted if p in self.rendered}
        unread = [p for p in wanted if p not in self._read]
        self._read |= {p: _parsed(p, data) for p, data in self.tree.read(unread).items()}
        return {p: self._read[p] for p in wanted if p in self._read}

    def paths(self, cluster: str | None = None) -> list[str]:
        """Every manifest path of the environment (or of one cluster) at this side."""
        folder = f"{self.dist}/{self.env}" + (f"/{cluster}" if cluster else "")
        if self.rendered is not None:
            return sorted(p for p in self.rendered if p.startswith(folder + "/"))
        return [p for p in self.tree.listing(folder) if is_manifest(p, self.dist)]

    def recorded(self, cluster: str, keys: Iterable[str]) -> provenance.Provenance | None:
        """The recorded sources of the objects `keys` in `cluster`, lines resolved (None
        without a readable side file)."""
        if cluster not in self.side_files:
            path = f"{self.dist}/{self.env}/{cluster}{provenance.SUFFIX}"
            found = self.tree.read([path]).get(path)
            if found is None:
                return None
            self.side_files[cluster] = found
        try:
            recorded = provenance.Provenance.some_from_bytes(self.side_files[cluster], keys)
        except (ValueError, KeyError, TypeError):
            return None
        for obj in recorded.objects.values():
            obj.fields = {at: self._lined(origin) for at, origin in obj.fields.items()}
        return recorded

    def _lined(self, origin: provenance.Origin) -> provenance.Origin:
        if not isinstance(origin, provenance.EnvField) or origin.file not in self.nodes:
            return origin
        return dataclasses.replace(origin, line=self.line_of(origin.file, origin.path))

    def line_of(self, file: str, path: tuple[str | int, ...]) -> int | None:
        """The line of `path` in the input `file` (the environment's or a team's)."""
        node = self.nodes.get(file)
        return yamlio.line_of(node, path) if node is not None else None

    def find(
        self,
        kinds: tuple[str, ...],
        needles: tuple[str, ...],
        cluster: str,
        *,
        absent: bool = False,
        namespace: str = "*",
    ) -> list[Obj]:
        """The objects of `kinds` in `cluster` (and in `namespace`) whose file contains one of
        `needles` (or, with `absent`, none of them): git searches, once for every cluster,
        and only those are parsed. A rendered side gives every object of the kinds; callers
        judge the objects themselves either way."""
        if self.rendered is not None:
            return [
                o for p, o in self.rendered.items()
                if p.split("/")[2] == cluster and o.get("kind") in kinds
            ]  # fmt: skip
        key = (kinds, needles, absent, namespace)
        if key not in self._found:
            where = f"{self.dist}/{self.env}"
            # glob: `*` within one path component (cluster, chart), which git matches faster
            specs = [f":(glob){where}/*/*/{kind}.*.{namespace}.*.yaml" for kind in kinds]
            commit = self.tree.side.commit
            names = gitrepo.grep(self.tree.repo, commit, needles, specs, absent=absent)
            self._found[key] = sorted(names)
        prefix = f"{self.dist}/{self.env}/{cluster}/"
        return list(self.objects(p for p in self._found[key] if p.startswith(prefix)).values())

    def beside(self, kinds: tuple[str, ...], cluster: str) -> list[Obj]:
        """Every object of `kinds` (`Kind`, or `Kind.group` for one group's) in `cluster`
        outside the services chart: the few that are not one service's own (namespace-wide
        policies, gateway and egress routes, waypoints), found by their file names
        (`<Kind>.<group>.<namespace>.<name>.yaml`) in the other charts' folders, not searched."""
        prefixes = tuple(f"{kind}." for kind in kinds)
        if self.rendered is not None:
            return [
                o for p, o in self.rendered.items()
                if p.split("/")[2] == cluster and p.split("/")[3] != contract.SERVICES_CHART
                and p.rsplit("/", 1)[1].startswith(prefixes)
            ]  # fmt: skip
        paths = [p for name, p in self._outside(cluster) if name.startswith(prefixes)]
        return list(self.objects(paths).values())

    def _outside(self, cluster: str) -> list[tuple[str, str]]:
        """(file name, dist path) of every file of `cluster` outside the services chart."""
        if cluster not in self._charts:
            folder = f"{self.dist}/{self.env}/{cluster}"
            charts = [
                c for c in self.tree.listing(folder, recursive=False)
                if c.rsplit("/", 1)[1] != contract.SERVICES_CHART and not c.endswith(".yaml")
            ]  # fmt: skip
            self._charts[cluster] = [
                (p.rsplit("/", 1)[1], p)
                for chart in charts for p in self.tree.listing(chart, recursive=False)
            ]  # fmt: skip
        return self._charts[cluster]


def is_manifest(path: str, dist: str) -> bool:
    """A manifest of a cluster folder (`dist/<env>/<cluster>/...yaml`), not a page or side file."""
    return path.endswith(".yaml") and path.count("/") >= 3 and path.startswith(dist + "/")


def load(tree: Tree, env: str, dist: str, environments: str) -> EnvSide:
    """The environment at one side, rendered when its dist/ is not current."""
    out = EnvSide(tree, env, dist, environments)
    entries = tree.listing(f"{dist}/{env}", recursive=False)
    out.clusters = sorted(n for n in (e.rsplit("/", 1)[1] for e in entries) if "." not in n)
    side_paths = {f"{dist}/{env}/{c}{provenance.SUFFIX}": c for c in out.clusters}
    team_dir = teams_folder(out.env_file)
    team_paths = [p for p in tree.listing(team_dir, recursive=False) if p.endswith(".yaml")]
    files = tree.read([out.env_file, *team_paths, *side_paths])
    out.team_texts = {p: files[p].decode("utf-8") for p in team_paths if p in files}
    out.side_files = {c: files[p] for p, c in side_paths.items() if p in files}
    text = files.get(out.env_file)
    if text is None:
        if out.clusters:
            out.note = f"{dist}/{env} at {tree.side.shown} has no {out.env_file}: read as committed"
        return out
    out.env_text = text.decode("utf-8")
    why = _stale(out)
    if why:
        _render(out)
        where = f"{dist}/{env} at {tree.side.shown}"
        out.note = f"{where} is stale ({why}): rendered from {out.env_file} instead"
    return out


def _digest(side_file: bytes) -> str | None:
    """The environment digest a side file records ("" when none; None when unreadable)."""
    try:
        return str(provenance.header(side_file).get("digest", ""))
    except ValueError:
        return None


def _stale(side: EnvSide) -> str | None:
    """Why the side's dist/ may not be what its environment file renders (None: current)."""
    inputs = {side.env_file: side.env_text or "", **side.team_texts}
    data: dict[str, Any] = {}
    for path, text in inputs.items():
        try:
            data[path], side.nodes[path] = yamlio.load_with_nodes(text)
        except yaml.YAMLError:
            return f"{path} does not parse"
    if not side.clusters:
        return f"no {side.dist}/{side.env}"
    teams = {PurePosixPath(p).stem: data[p] for p in side.team_texts}
    wanted = provenance.digest(data[side.env_file], teams)
    for cluster in side.clusters:
        recorded = side.side_files.get(cluster)
        digest = _digest(recorded) if recorded is not None else None
        if digest is None:
            return f"no readable provenance side file for {cluster}"
        if not digest:
            return "its side files record no environment digest (synthesised before review)"
        if digest != wanted:
            return f"{side.env_file} changed since `meshops synth`"
    return None


def _render(side: EnvSide) -> None:
    """Render the environment file of this side with this meshops (starts Node: only here)."""
    from charts_py.config import environment
    from charts_py.render import synth

    env = environment.load_text(side.env_text or "", side.env, side.env_file, side.team_texts)
    built = synth.rendered([env], [env], side.environments)
    prefix = f"{side.env}/"
    side.rendered = {
        f"{side.dist}/{m.path}": m.obj for m in built.manifests if m.path.startswith(prefix)
    }
    side.clusters = sorted(c.name for c in env.spec.clusters)
    side.side_files = {
        path.removeprefix(prefix).removesuffix(provenance.SUFFIX): data
        for path, data in built.side_files.items()
    }


def teams_folder(env_file: str) -> str:
    """Where an environment's team files live (config/teams.py's `team_dir`, spelled here:
    importing it loads the pydantic models)."""
    return env_file.removesuffix(".yaml")


def _parsed(path: str, data: bytes) -> Obj:
    try:
        obj = yamlio.load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(path, "", f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(obj, dict) or "kind" not in obj:
        raise ConfigError(path, "", "not a Kubernetes object (no kind)")
    return obj
