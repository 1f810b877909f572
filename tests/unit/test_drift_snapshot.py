"""Snapshot contents (report + masked divergent live YAML), its folder, and committing it."""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import gitrepo
from charts_py.drift import formats, snapshot
from charts_py.drift.model import GitSource, Report, Result, Severity, Status
from charts_py.errors import SnapshotError
from charts_py.objectref import ObjectRef

GIT = GitSource("HEAD", "0123456789abcdef0123456789abcdef01234567", "dist/prod/prod-east")
STARTED = "2025-06-01T02:03:04Z"
PEER_AUTH = ObjectRef("security.istio.io/v1", "PeerAuthentication", "istio-system", "default")
SECRET = ObjectRef("v1", "Secret", "bookinfo", "db")
NAMESPACE = ObjectRef("v1", "Namespace", "", "stray")
MISSING = ObjectRef("v1", "Service", "bookinfo", "ratings")
IN_SYNC = ObjectRef("v1", "ServiceAccount", "bookinfo", "reviews")
UNKNOWN = ObjectRef("security.istio.io/v1", "AuthorizationPolicy", "bookinfo", "deny-all")


def live_object(ref: ObjectRef, **extra: Any) -> dict[str, Any]:
    meta = {"name": ref.name, **({"namespace": ref.namespace} if ref.namespace else {})}
    return {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": meta, **extra}


def masked_secret() -> dict[str, Any]:
    return live_object(SECRET, type="Opaque", data={"password": "<masked:1f2e3d4c>"})


def a_report() -> Report:
    results = (
        Result(PEER_AUTH, Status.MODIFIED, severity=Severity.CRITICAL),
        Result(SECRET, Status.MODIFIED, severity=Severity.HIGH),
        Result(NAMESPACE, Status.EXTRA, severity=Severity.LOW),
        Result(MISSING, Status.MISSING, severity=Severity.HIGH),
        Result(IN_SYNC, Status.IN_SYNC),
        Result(UNKNOWN, Status.UNKNOWN, error="forbidden"),
    )
    return Report(
        env="prod",
        cluster="prod-east",
        git=GIT,
        started_at=STARTED,
        finished_at="2025-06-01T02:04:00Z",
        results=results,
    )


def live() -> dict[ObjectRef, dict[str, Any]]:
    return {
        PEER_AUTH: live_object(PEER_AUTH, spec={"mtls": {"mode": "PERMISSIVE"}}),
        SECRET: masked_secret(),
        NAMESPACE: live_object(NAMESPACE),
        IN_SYNC: live_object(IN_SYNC),
    }


def test_files_hold_the_report_and_each_modified_or_extra_object() -> None:
    report, objects = a_report(), live()
    out = snapshot.files(report, objects)
    assert sorted(out) == [
        "Namespace.core._cluster.stray.yaml",
        "PeerAuthentication.security.istio.io.istio-system.default.yaml",
        "Secret.core.bookinfo.db.yaml",
        "report.json",
        "report.md",
    ]
    assert out["report.json"] == formats.json_text(report).encode()
    assert json.loads(out["report.json"])["summary"]["modified"] == 2
    assert out["report.md"].decode().startswith("# Drift report: prod / prod-east")
    peer = out["PeerAuthentication.security.istio.io.istio-system.default.yaml"].decode()
    assert yaml.safe_load(peer) == objects[PEER_AUTH]
    assert peer.splitlines()[:2] == ["apiVersion: security.istio.io/v1", "kind: PeerAuthentication"]


def test_files_do_not_change_their_inputs() -> None:
    objects = live()
    before = copy.deepcopy(objects)
    snapshot.files(a_report(), objects)
    assert objects == before


@pytest.mark.parametrize(
    "secret",
    [
        live_object(SECRET, data={"password": "c2VjcmV0"}),
        live_object(SECRET, data={"a": "<masked:1>", "b": "cGxhaW4="}),
        live_object(SECRET, stringData={"password": "hunter2"}),
        live_object(SECRET, data={"password": None}),
        live_object(SECRET, data=["not", "a", "map"]),
    ],
    ids=["data", "one-of-two", "stringData", "null", "not-a-map"],
)
def test_an_unmasked_secret_is_refused(secret: dict[str, Any]) -> None:
    objects = {**live(), SECRET: secret}
    with pytest.raises(SnapshotError, match=r"Secret bookinfo/db: (data|stringData)"):
        snapshot.files(a_report(), objects)


def test_a_secret_without_values_and_other_kinds_with_data_pass() -> None:
    empty = live_object(SECRET, type="Opaque")
    config = {**live(), SECRET: empty}
    assert "Secret.core.bookinfo.db.yaml" in snapshot.files(a_report(), config)
    snapshot.refuse_unmasked(PEER_AUTH, live_object(PEER_AUTH, data={"plain": "fine"}))


def test_a_divergent_object_without_its_live_state_is_an_error() -> None:
    objects = live()
    del objects[NAMESPACE]
    with pytest.raises(SnapshotError, match="Namespace stray: extra, but no live object"):
        snapshot.files(a_report(), objects)


def test_file_names_say_kind_group_namespace_name() -> None:
    assert snapshot.file_name(NAMESPACE) == "Namespace.core._cluster.stray.yaml"
    assert snapshot.file_name(ObjectRef("apps/v1", "Deployment", "ns", "web")) == (
        "Deployment.apps.ns.web.yaml"
    )
    with pytest.raises(SnapshotError, match="cannot be written"):
        snapshot.file_name(ObjectRef("v1", "ConfigMap", "ns", "../escape"))


@pytest.mark.parametrize(
    "started",
    [
        "2025-06-01T02:03:04Z",
        "2025-06-01T04:03:04+02:00",
        "2025-06-01T02:03:04.999999+00:00",
        datetime(2025, 6, 1, 2, 3, 4, tzinfo=UTC),
        datetime(2025, 5, 31, 21, 3, 4, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_folder_is_env_cluster_and_utc_start(started: str | datetime) -> None:
    assert snapshot.folder("prod", "prod-east", started) == "prod/prod-east/20250601T020304Z"


@pytest.mark.parametrize(
    ("env", "cluster", "started", "reason"),
    [
        ("prod", "prod-east", "2025-06-01T02:03:04", "has no time zone"),
        ("prod", "prod-east", "last night", "is not an ISO 8601 timestamp"),
        ("prod/x", "prod-east", STARTED, "cannot name a snapshot folder"),
        ("prod", "", STARTED, "cannot name a snapshot folder"),
    ],
)
def test_folder_refuses_what_it_cannot_name(
    env: str, cluster: str, started: str, reason: str
) -> None:
    with pytest.raises(SnapshotError, match=reason):
        snapshot.folder(env, cluster, started)


@dataclass
class Live:
    """Live objects by ObjectRef.key, the shape the fetch step returns."""

    objects: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)


def test_commit_writes_the_snapshot_to_the_branch(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    fetched = Live({ref.key: obj for ref, obj in live().items()})
    sha = snapshot.commit(a_report(), fetched, repo=tmp_path, branch="meshops/snapshots", push=None)
    repo = gitrepo.open_repo(tmp_path)
    assert gitrepo.resolve(repo, "meshops/snapshots") == sha
    written = gitrepo.read_tree(repo, sha, "prod/prod-east/20250601T020304Z")
    assert written == snapshot.files(a_report(), live())
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git"]  # working tree untouched
