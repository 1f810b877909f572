"""Adoption without change, on the real API server: Istio's samples and microservices-demo,
installed as their READMEs do, imported (from the cluster, and again from their files),
synthesised, and synced the way Argo CD's first sync would.

For each sample: `meshops import` then `meshops synth`; every dist object server-side
applied as `argocd-controller` with a dry-run changes nothing but metadata of any object
the cluster holds, and creates no object that changes traffic or security; after the sync
itself, `meshops drift` is in sync, so the old managers (kubectl, Helm) raise no alarm; at
least 90 % of the Istio and Gateway API objects import `exact`, every other one with its
reason. A table per variant is printed (run with `-s` to see it).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from charts_py import apply, cli, kubeapi
from charts_py.cluster import binaries, controlplane
from charts_py.errors import UnknownKind
from charts_py.objectref import group_of
from tests.integration import roundtrip
from tests.integration.roundtrip import Sample, Variant

MODES = ("cluster", "dir")
EXACT_SHARE = 0.9
CRD_MANAGER = "meshops-tests"


@pytest.fixture(scope="module")
def gateway_api(control_plane: controlplane.LocalCluster) -> kubeapi.Cluster:
    """Gateway API's CRDs (experimental channel: TCPRoute) on the local control plane, and a
    connection whose discovery knows them."""
    kube = kubeapi.Cluster.connect(control_plane.kubeconfig)
    folder = resources.files("charts_py") / "crds" / "gateway-api" / "experimental"
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        kube.apply(yaml.safe_load(file.read_text()), field_manager=CRD_MANAGER)
    deadline = time.monotonic() + 60
    while True:
        kube = kubeapi.Cluster.connect(control_plane.kubeconfig)
        try:
            kube.served("gateway.networking.k8s.io/v1alpha2", "TCPRoute")
            return kube
        except UnknownKind:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def installed(
    control_plane: controlplane.LocalCluster,
    gateway_api: kubeapi.Cluster,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[dict[Variant, tuple[str, list[Path]]]]:
    """Each variant of the sample installed in a fresh, injection-labelled namespace:
    variant -> (namespace, the files that hold what was installed)."""
    sample, mode = request.param
    tools = roundtrip.tools_for(control_plane.kubeconfig, binaries.locate() / "kubectl")
    placed = {}
    for variant in sample.variants:
        namespace = f"imp-{mode[0]}-{_slug(variant.name)[:40]}-{uuid.uuid4().hex[:6]}"
        tools.kubectl("create", "namespace", namespace)
        tools.kubectl("label", "namespace", namespace, "istio-injection=enabled")
        placed[variant] = (namespace, tools.install(variant, namespace, tmp_path))
    yield placed
    for namespace, _ in placed.values():
        gateway_api.request("DELETE", f"/api/v1/namespaces/{namespace}")


CASES = [(sample, mode) for sample in roundtrip.SAMPLE_SET for mode in MODES]


@pytest.mark.parametrize("installed", CASES, ids=[f"{s.name}-{m}" for s, m in CASES], indirect=True)
def test_first_sync_after_import_is_a_no_op(
    installed: dict[Variant, tuple[str, list[Path]]],
    control_plane: controlplane.LocalCluster,
    gateway_api: kubeapi.Cluster,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sample, mode = request.node.callspec.params["installed"]
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    kubeconfig = control_plane.kubeconfig
    reports = _imported(sample, mode, installed, kubeconfig, tmp_path)
    assert cli.main(["synth"]) == 0
    _commit(repo)

    objects = [o for env in reports for o in roundtrip.dist_objects(repo / "dist" / env)]
    sync = roundtrip.dry_run(gateway_api, objects)
    _print_table(sample, mode, installed, reports, sync)
    assert sync.changed == {}
    assert sync.created_traffic_or_security() == []

    apply.apply(gateway_api, objects)
    for env in reports:
        out = tmp_path / f"{env}.drift.json"
        args = ["drift", "--env", env, "--cluster", _cluster(env), "--repo", str(repo)]
        args += ["--kubeconfig", kubeconfig, "--format", "json", "--output", str(out)]
        code = cli.main(args)
        drift = json.loads(out.read_text())
        diverged = [r for r in drift["resources"] if r["status"] != "in-sync"]
        assert (code, diverged) == (0, []), env

    mesh = [o for r in reports.values() for o in r["objects"] if _mesh(o["apiVersion"])]
    exact = sum(o["status"] == "exact" for o in mesh)
    assert exact >= EXACT_SHARE * len(mesh), Counter(o["status"] for o in mesh)
    for obj in mesh:
        if obj["status"] == "approximate":
            assert obj["differences"] and all(d["why"] for d in obj["differences"])
        elif obj["status"] == "not-expressible":
            assert obj["reason"]


def _imported(
    sample: Sample,
    mode: str,
    installed: dict[Variant, tuple[str, list[Path]]],
    kubeconfig: str,
    tmp_path: Path,
) -> dict[str, dict[str, Any]]:
    """`meshops import` as a user runs it: from the cluster, one environment reading every
    variant's namespace; from the files, one environment per variant (a folder import takes
    one namespace). The report of each environment, by its name."""
    if mode == "cluster":
        env = _slug(sample.name)[:40]
        args = ["--kubeconfig", kubeconfig]
        for namespace, _ in installed.values():
            args += ["--namespace", namespace]
        return {env: _import(env, args, tmp_path)}
    reports = {}
    for i, (namespace, files) in enumerate(installed.values()):
        env = f"{_slug(sample.name)[:36]}-{i}"
        args = ["--from-dir", *map(str, files), "--namespace", namespace]
        reports[env] = _import(env, args, tmp_path)
    return reports


def _import(env: str, args: list[str], tmp_path: Path) -> dict[str, Any]:
    report = tmp_path / f"{env}.import.json"
    argv = ["import", "--env", env, "--cluster", _cluster(env), *args, "--report", str(report)]
    assert cli.main(argv) == 0, " ".join(argv)
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def _cluster(env: str) -> str:
    """Cluster names are unique across an environments folder."""
    return f"{env}-k"


def _commit(repo: Path) -> None:
    """environments/ and dist/ committed: drift reads dist at HEAD."""
    work = git.Repo.init(repo, initial_branch="main")
    with work.config_writer() as cfg:
        cfg.set_value("user", "name", "test").set_value("user", "email", "t@example.com")
    work.git.add("-A")
    work.git.commit("-m", "import")


def _mesh(api_version: str) -> bool:
    group = group_of(api_version)
    return group.endswith(".istio.io") or group == "gateway.networking.k8s.io"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def _print_table(
    sample: Sample,
    mode: str,
    installed: dict[Variant, tuple[str, list[Path]]],
    reports: dict[str, dict[str, Any]],
    sync: roundtrip.FirstSync,
) -> None:
    """Per variant: objects, exact, approximate, not-expressible, and whether its first sync
    is a no-op (no spec changed, no traffic or security object created)."""
    rows = [o for r in reports.values() for o in r["objects"]]
    bad = set(sync.changed) | set(sync.created_traffic_or_security())
    for variant, (namespace, _) in installed.items():
        mine = [o for o in rows if o["namespace"] == namespace or o["name"] == namespace]
        count = Counter(o["status"] for o in mine)
        no_op = not any(f"{namespace}/" in b for b in bad)
        print(
            f"ROUNDTRIP {sample.name} {variant.name} from-{mode}: objects={len(mine)} "
            f"exact={count['exact']} approximate={count['approximate']} "
            f"not-expressible={count['not-expressible']} sync-no-op={'yes' if no_op else 'no'}"
        )
