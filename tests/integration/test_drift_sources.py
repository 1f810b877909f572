"""Every drift difference names where git's value comes from, on the real control plane: the
environment file and line, read from the provenance side file of the same commit."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
import yaml

from charts_py import kubeapi, provenance
from charts_py.cluster import binaries, controlplane
from charts_py.config import environment, source
from charts_py.objectref import ObjectRef
from charts_py.provenance import EnvField, Generated
from charts_py.render import synth
from tests.conftest import sample
from tests.integration import drift_env
from tests.integration.drift_env import Scenario, diverged

ENV_FILE = "environments/staging.yaml"
PAYMENT = 6  # services[6] of the staging sample


@pytest.fixture(scope="module")
def staging_text() -> str:
    """The staging sample with two environment variables on payment (a keyed list to edit)."""
    data = sample("staging")
    assert data["services"][PAYMENT]["name"] == "payment"
    data["services"][PAYMENT]["env"] = {"LOG_LEVEL": "info", "REGION": "eu"}
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture(scope="module")
def built(staging_text: str) -> synth.Rendered:
    env = environment.load_text(staging_text, "staging", ENV_FILE)
    return synth.rendered([env], [env])


@pytest.fixture
def traced(
    kube: kubeapi.Cluster,
    control_plane: controlplane.LocalCluster,
    namespace: str,
    built: synth.Rendered,
    staging_text: str,
    tmp_path: Path,
) -> Scenario:
    """A synced slice of staging in this test's namespace, committed with its environment
    file and its provenance side file (moved to the namespace like the objects)."""
    repo = tmp_path / "repo"
    git.Repo.init(repo, initial_branch="main")
    with git.Repo(repo).config_writer() as cfg:
        cfg.set_value("user", "name", "test").set_value("user", "email", "t@example.com")
    cluster = namespace[-20:].strip("-")
    placed = [m.obj for m in built.manifests if m.path.startswith("staging/")]
    recorded = provenance.Provenance.from_bytes(
        built.side_files["staging/staging-1.provenance.json"]
    )
    moved = provenance.Provenance("staging", cluster, ENV_FILE)
    for obj in placed:
        ref = ObjectRef.of(obj)
        if ref.namespace:
            there = ObjectRef(ref.api_version, ref.kind, namespace, ref.name)
            moved.objects[provenance.ref_key(there)] = recorded.objects[provenance.ref_key(ref)]
    (repo / "environments").mkdir()
    (repo / ENV_FILE).write_text(staging_text)
    side = repo / "dist" / provenance.side_file("staging", cluster)
    side.parent.mkdir(parents=True)
    side.write_bytes(moved.to_bytes())
    objects = drift_env.isolate(placed, namespace, cluster)
    kubectl = binaries.locate() / "kubectl"
    scenario = Scenario(kube, control_plane.kubeconfig, kubectl, repo, namespace, cluster, objects)
    scenario.commit()
    scenario.sync()
    return scenario


def line_of(text: str, *path: str | int) -> int | None:
    return source.parse(text, ENV_FILE).line_of(path)


def test_a_hand_edited_route_timeout_names_its_file_line_and_field(
    traced: Scenario, staging_text: str
) -> None:
    patch = [{"op": "replace", "path": "/spec/http/0/timeout", "value": "60s"}]
    traced.kubectl("patch", "virtualservice/payment", "--type=json", "-p", json.dumps(patch))
    report = traced.drift()
    (diff,) = diverged(report)[("VirtualService", "payment")].differences
    assert (diff.path, diff.desired, diff.live) == ("/spec/http/0/timeout", "15s", "60s")
    line = line_of(staging_text, "services", PAYMENT, "timeout")
    assert diff.source == EnvField(ENV_FILE, f"services[{PAYMENT}].timeout", line=line)
    as_json = next(
        d
        for r in report.to_json()["resources"]
        for d in r["differences"]
        if r["kind"] == "VirtualService"
    )
    assert as_json["source"] == {"file": ENV_FILE, "line": line, "field": "services[6].timeout"}
    assert report.to_json()["schemaVersion"] == 4 and not report.notes


def test_a_swapped_image_names_the_image_field(traced: Scenario, staging_text: str) -> None:
    traced.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    (diff,) = diverged(traced.drift())[("Deployment", "payment-v1")].differences
    assert (diff.path, diff.live) == ("/spec/template/spec/containers/0/image", "evil:1")
    line = line_of(staging_text, "services", PAYMENT, "image")
    assert diff.source == EnvField(ENV_FILE, f"services[{PAYMENT}].image", line=line)


def test_an_env_var_inserted_first_does_not_take_git_first_variables_source(
    traced: Scenario, staging_text: str
) -> None:
    """Live's list positions move when a variable is inserted at index 0: the inserted one has
    no field in the file, and the changed one keeps its own."""
    patch = [
        {"op": "add", "path": "/spec/template/spec/containers/0/env/0",
         "value": {"name": "HOTFIX", "value": "1"}},
        {"op": "replace", "path": "/spec/template/spec/containers/0/env/1/value",
         "value": "debug"},
    ]  # fmt: skip
    traced.kubectl("patch", "deployment/payment-v1", "--type=json", "-p", json.dumps(patch))
    diffs = diverged(traced.drift())[("Deployment", "payment-v1")].differences
    added = [d for d in diffs if "HOTFIX" in json.dumps(d.live)]
    changed = [d for d in diffs if d.desired == "info"]
    assert added and changed, diffs
    assert {d.source for d in added} == {Generated("MeshService construct")}
    line = line_of(staging_text, "services", PAYMENT, "env", "LOG_LEVEL")
    (log_level,) = changed
    assert log_level.live == "debug"
    assert log_level.source == EnvField(ENV_FILE, f"services[{PAYMENT}].env.LOG_LEVEL", line=line)


def test_a_commit_without_a_side_file_has_unknown_sources_and_says_so(
    scenario: Scenario,
) -> None:
    scenario.kubectl("set", "image", "deployment/payment-v1", "payment=evil:1")
    report = scenario.drift()
    (diff,) = diverged(report)[("Deployment", "payment-v1")].differences
    commit = report.git.commit[:12]
    assert diff.source == Generated(f"unknown: no provenance at {commit}")
    assert any("no provenance side file" in note for note in report.notes)
