"""Reading dist/ by its contract: `dist/<env>/<cluster>/<chart>/<file>.yaml`, one object each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from charts_py import contract, yamlio
from charts_py.errors import ConfigError


@dataclass(frozen=True)
class Placed:
    """An object read from dist/, with the file it came from (relative to dist/)."""

    file: str
    obj: dict[str, Any]


def cluster_dir(dist: Path, env: str, cluster: str | None) -> Path:
    """`dist/<env>/<cluster>`; the cluster may be omitted when the environment has one."""
    env_dir = dist / env
    if env == contract.BOOTSTRAP_DIR or not env_dir.is_dir():
        known = sorted(p.name for p in dist.glob("*") if p.is_dir() and p.name[0] != "_")
        raise ConfigError(str(env_dir), "--env", f"no such environment in dist (known: {known})")
    clusters = sorted(p.name for p in env_dir.iterdir() if p.is_dir())
    if cluster is None:
        if len(clusters) != 1:
            raise ConfigError(str(env_dir), "--cluster", f"required: one of {clusters}")
        cluster = clusters[0]
    if cluster not in clusters:
        raise ConfigError(str(env_dir), "--cluster", f"unknown cluster {cluster!r} ({clusters})")
    return env_dir / cluster


def read(folder: Path) -> list[Placed]:
    """Every object under `folder` (sorted by path)."""
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        rel = path.relative_to(folder.parent.parent).as_posix()
        try:
            obj = yamlio.load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(rel, "", f"malformed YAML: {exc}") from None
        if not isinstance(obj, dict) or "kind" not in obj or "metadata" not in obj:
            raise ConfigError(rel, "", "not a Kubernetes object (kind and metadata required)")
        out.append(Placed(rel, obj))
    return out
