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
from charts_py.objectref import Key, group_of
from tests.integration import roundtrip
from tests.integration.roundtrip import Sample, Variant

MODES = ("cluster", "dir")
EXACT_SHARE = 0.9
MANAGER = "meshops-tests"


@pytest.fixture(scope="module")
def gateway_api(control_plane: controlplane.LocalCluster) -> kubeapi.Cluster:
    """What a cluster running Istio has before the samples: the control plane's namespace
    (istio-system) and Gateway API's CRDs (experimental channel: TCPRoute); a connection
    whose discovery knows them."""
    kube = kubeapi.Cluster.connect(control_plane.kubeconfig)
    system = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}
    kube.apply(system, field_manager=MANAGER)
    folder = resources.files("charts_py") / "crds" / "gateway-api" / "experimental"
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        kube.apply(yaml.safe_load(file.read_text()), field_manager=MANAGER)
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
        if mode == "cluster":  # as the READMEs do it
            tools.kubectl("create", "namespace", namespace)
            tools.kubectl("label", "namespace", namespace, "istio-injection=enabled")
            own = []
        else:  # a folder of manifests holds its namespace, labels and all
            own = [_namespace_file(namespace, tmp_path)]
            tools.kubectl("apply", "-f", str(own[0]))
        placed[variant] = (namespace, own + tools.install(variant, namespace, tmp_path))
    yield placed
    for namespace, _ in placed.values():
        gateway_api.request("DELETE", f"/api/v1/namespaces/{namespace}")


def _namespace_file(name: str, folder: Path) -> Path:
    file = folder / f"namespace-{name}.yaml"
    labels = {"istio-injection": "enabled"}
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
    }
    file.write_text(yaml.safe_dump(namespace))
    return file


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

    dists = {env: roundtrip.dist_objects(repo / "dist" / env) for env in reports}
    failures = []
    for (env, objects), variant in zip(dists.items(), installed, strict=True):
        sync = roundtrip.dry_run(gateway_api, objects)
        changed = sync.changed_among({_key(o) for o in reports[env]["objects"]})
        created = sync.created_traffic_or_security()
        apply.apply(gateway_api, objects)
        diverged = _drift(env, repo, kubeconfig, tmp_path)
        _print_row(sample, variant, mode, reports[env], not (changed or created or diverged))
        if changed or created or diverged:
            failures.append(f"{env} ({variant.name}): changed {changed}, created {created}")
            failures += diverged
    assert not failures, "\n".join(failures)

    mesh = [o for r in reports.values() for o in r["objects"] if _mesh(o["apiVersion"])]
    exact = sum(o["status"] == "exact" for o in mesh)
    assert exact >= EXACT_SHARE * len(mesh), Counter(o["status"] for o in mesh)
    for obj in mesh:
        if obj["status"] == "approximate":
            assert obj["differences"] and all(d["why"] for d in obj["differences"])
        elif obj["status"] == "not-expressible":
            assert obj["reason"]


def _drift(env: str, repo: Path, kubeconfig: str, tmp_path: Path) -> list[str]:
    """`meshops drift` of the environment: what is not in sync, a line each (none: exit 0).
    Each environment is synced and checked before the next one's sync: the environments
    share a cluster, and the objects every environment renders for its cluster (the drift
    job's) are the last sync's."""
    out = tmp_path / f"{env}.drift.json"
    args = ["drift", "--env", env, "--cluster", _cluster(env), "--repo", str(repo)]
    code = cli.main([*args, "--kubeconfig", kubeconfig, "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())
    diverged = [_said(r) for r in report["resources"] if r["status"] != "in-sync"]
    return diverged if code == 0 else [f"{env}: drift exit {code}", *diverged]


def _imported(
    sample: Sample,
    mode: str,
    installed: dict[Variant, tuple[str, list[Path]]],
    kubeconfig: str,
    tmp_path: Path,
) -> dict[str, dict[str, Any]]:
    """`meshops import` as a user runs it, once per variant (each its own environment and
    cluster: two variants side by side would serve the same gateway host and port twice,
    which validate rightly refuses), reading its namespace from the cluster or its files
    from the folder. The report of each environment, by its name."""
    reports = {}
    for i, (namespace, files) in enumerate(installed.values()):
        env = f"{_slug(sample.name)[:36]}-{mode[0]}{i}"  # one of its own in the session
        source = (
            ["--kubeconfig", kubeconfig] if mode == "cluster" else ["--from-dir", *map(str, files)]
        )
        reports[env] = _import(env, [*source, "--namespace", namespace], tmp_path)
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


def _said(result: dict[str, Any]) -> str:
    """One drift result in a line: the object, its verdict, each path and its manager."""
    paths = [f"{d['path']} ({d.get('manager')})" for d in result.get("differences") or []]
    where = f"{result['namespace']}/" if result["namespace"] else ""
    return f"{result['kind']} {where}{result['name']}: {result['status']} {', '.join(paths)}"


def _key(reported: dict[str, Any]) -> Key:
    """An object of the import report, as the cluster keys it."""
    group = group_of(reported["apiVersion"])
    return group, reported["kind"], reported["namespace"] or "", reported["name"]


def _mesh(api_version: str) -> bool:
    group = group_of(api_version)
    return group.endswith(".istio.io") or group == "gateway.networking.k8s.io"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def _print_row(
    sample: Sample, variant: Variant, mode: str, report: dict[str, Any], no_op: bool
) -> None:
    """One variant's line: objects, exact, approximate, not-expressible, and whether its
    first sync was proven a no-op (no spec changed, no traffic or security object made,
    drift in sync afterwards)."""
    count = Counter(o["status"] for o in report["objects"])
    via = Counter(o["via"] for o in report["objects"] if o["status"] == "exact")
    print(
        f"ROUNDTRIP {sample.name} {variant.name} from-{mode}: objects={len(report['objects'])} "
        f"exact={count['exact']} (via model {via['model']}) approximate={count['approximate']} "
        f"not-expressible={count['not-expressible']} sync-no-op={'yes' if no_op else 'no'}"
    )
