"""Where backups live on the snapshot branch and what their manifest says (schemaVersion 1).

`<env>/<cluster>/backup-<YYYYMMDDTHHMMSSZ>/`: beside drift's `<env>/<cluster>/<timestamp>/`
snapshots on the same branch, told apart by the prefix; names sort by time, so the newest
backup is the greatest name. `backup.json` lists every object file, so a restore can tell a
complete backup from a damaged one.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from charts_py.errors import CorruptBackup, SnapshotError

MANIFEST = "backup.json"
PREFIX = "backup-"
SCHEMA_VERSION = 1
_PATH = re.compile(r"(?P<env>[^/]+)/(?P<cluster>[^/]+)/(?P<name>backup-[^/]+)")


def folder(env: str, cluster: str, when: datetime) -> str:
    """`<env>/<cluster>/backup-<UTC time>`."""
    for part in (env, cluster):
        if not part or "/" in part or part in (".", ".."):
            raise SnapshotError(f"{part!r} cannot name a backup folder")
    return f"{env}/{cluster}/{PREFIX}{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def parse_path(text: str) -> tuple[str, str, str] | None:
    """(env, cluster, folder) if `text` is a backup folder path, else None (then it is a ref)."""
    match = _PATH.fullmatch(text.strip("/"))
    if match is None:
        return None
    return match["env"], match["cluster"], match.group(0)


def newest(names: list[str]) -> str | None:
    """The latest backup folder name among `names` (drift snapshots are not backups)."""
    backups = sorted(n for n in names if n.startswith(PREFIX))
    return backups[-1] if backups else None


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Stable JSON: sorted keys, one trailing newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def read_manifest(where: str, data: bytes | None, env: str, cluster: str) -> dict[str, Any]:
    """The manifest of the backup at `where`, checked against the (env, cluster) asked for."""
    if data is None:
        raise CorruptBackup(f"{where}: no {MANIFEST}; not a complete backup")
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise CorruptBackup(f"{where}/{MANIFEST}: not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("schemaVersion") != SCHEMA_VERSION:
        raise CorruptBackup(f"{where}/{MANIFEST}: schemaVersion {SCHEMA_VERSION} expected")
    if (manifest.get("env"), manifest.get("cluster")) != (env, cluster):
        raise CorruptBackup(
            f"{where}/{MANIFEST}: backup of {manifest.get('env')}/{manifest.get('cluster')}, "
            f"not {env}/{cluster}"
        )
    if not isinstance(manifest.get("objects"), list):
        raise CorruptBackup(f"{where}/{MANIFEST}: objects: a list expected")
    return manifest
