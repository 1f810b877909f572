"""One real control plane (kube-apiserver + etcd) for the whole integration session.

Built or reused via `charts_py.cluster` exactly as `meshops cluster up` does it; each test
that needs isolation gets its own namespace; a failing test gets the API server's log tail.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py import kubeapi
from charts_py.cluster import controlplane

STATE: dict[str, Path] = {}


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.LocalCluster]:
    state = tmp_path_factory.mktemp("control-plane")
    STATE["dir"] = state
    cluster = controlplane.up(state)
    yield cluster
    controlplane.down(state)


@pytest.fixture(scope="session")
def kube(control_plane: controlplane.LocalCluster) -> kubeapi.Cluster:
    return kubeapi.Cluster.connect(control_plane.kubeconfig)


@pytest.fixture
def namespace(kube: kubeapi.Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test, deleted afterwards."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name[:40].lower().replace("_", "-"))
    name = f"t-{base.strip('-')}-{uuid.uuid4().hex[:6]}"
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    kube.apply(ns, field_manager="meshops-tests")
    yield name
    kube.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and "dir" in STATE:
        tail = controlplane.log_tail(STATE["dir"], "kube-apiserver", 40)
        report.sections.append(("kube-apiserver log (last 40 lines)", tail))


@pytest.fixture(scope="session")
def sample_objects() -> list[dict[str, object]]:
    """The staging sample, rendered once, as plain dicts (a few services keep tests fast)."""
    from charts_py.config import environment
    from charts_py.render import synth

    envs = environment.load_all(Path(__file__).resolve().parents[2] / "environments")
    staging = envs["staging"]
    return [m.obj for m in synth.manifests([staging], [staging]) if m.path.startswith("staging/")]


@pytest.fixture
def scenario(
    kube: kubeapi.Cluster,
    control_plane: controlplane.LocalCluster,
    namespace: str,
    sample_objects: list[dict[str, object]],
    tmp_path: Path,
):  # type: ignore[no-untyped-def]
    """A committed, synced slice of the staging sample in this test's namespace."""
    import git

    from charts_py.cluster import binaries
    from tests.integration import drift_env

    repo = tmp_path / "repo"
    git.Repo.init(repo, initial_branch="main")
    with git.Repo(repo).config_writer() as cfg:
        cfg.set_value("user", "name", "test").set_value("user", "email", "t@example.com")
    cluster = namespace[-20:].strip("-")
    objects = drift_env.isolate(sample_objects, namespace, cluster)  # type: ignore[arg-type]
    s = drift_env.Scenario(
        kube,
        control_plane.kubeconfig,
        binaries.locate() / "kubectl",
        repo,
        namespace,
        cluster,
        objects,
    )
    s.commit()
    s.sync()
    return s
