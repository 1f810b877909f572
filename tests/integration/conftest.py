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


@pytest.fixture(scope="session")
def gateway_api(kube: kubeapi.Cluster) -> None:
    """Gateway API's CRDs (experimental channel, a superset of the standard one: an ambient
    route's `retry` is experimental in v1.6.0) on the control plane, for the dist/ objects of
    ambient namespaces. controlplane.install_crds installs only the top level of
    charts_py/crds/; the gateway-api branch installs these in the control plane itself, after
    which this fixture is a no-op re-apply."""
    import time
    from importlib import resources

    import yaml

    folder = resources.files("charts_py") / "crds" / "gateway-api" / "experimental"
    crds = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in folder.iterdir()]
    for crd in crds:
        kube.apply(crd, field_manager=controlplane.CRD_MANAGER)
    names = {crd["metadata"]["name"] for crd in crds}
    resource = kube.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    deadline = time.monotonic() + 60
    while names - controlplane._established(kube.list(resource)):
        assert time.monotonic() < deadline, "Gateway API CRDs not established"
        time.sleep(0.2)
    # The session's client read the served kinds before these CRDs existed: read them again.
    kube.__dict__.pop("_discovery", None)


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
