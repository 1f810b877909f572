"""Adoption without change, on the real API server: Istio's samples and microservices-demo,
and Istio configuration from other public repositories (`roundtrip.CORPORA`: istio.io's
tasks, GoogleCloudPlatform/istio-samples, kiali/demos, redhat-scholars/istio-tutorial),
installed as their READMEs do, imported (from the cluster, and again from their files),
synthesised, and synced the way Argo CD's first sync would.

For each sample and way: `meshops import` then `meshops synth`; every object claimed `exact`
renders, as the server makes it, the live object's spec (and Istio's own labels and
annotations); every dist object server-side applied as `argocd-controller` with a dry-run
changes no spec of an imported object and creates no object that changes traffic or
security; after the sync itself, `meshops drift` is in sync, so the old managers (kubectl,
Helm) raise no alarm. Apart from that: at least 90 % of the Istio objects import `exact`,
every other object says why, and the samples' Gateway API objects are exact through typed
fields. A line per variant is printed (run with `-s` to see them).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
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
GATEWAY_API = "gateway.networking.k8s.io"
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


@dataclass
class RoundTrip:
    """One sample imported one way (from the cluster or from its files), each variant as an
    environment of its own: the import reports by environment, and what its first sync and
    the drift run after it found wrong (nothing, when adoption changes nothing)."""

    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    all_typed: bool = True
    """Every Gateway API object exact through a typed field: Istio's samples. Other
    repositories' may say what the standard channel's v1 cannot (a TLSRoute without
    hostnames) or carry an annotation Istio reads: an extension, with the reason."""


CASES = [(sample, mode) for sample in (*roundtrip.SAMPLE_SET, *roundtrip.CORPORA) for mode in MODES]


@pytest.fixture(scope="module", params=CASES, ids=[f"{s.name}-{m}" for s, m in CASES])
def round_trip(
    request: pytest.FixtureRequest,
    control_plane: controlplane.LocalCluster,
    gateway_api: kubeapi.Cluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RoundTrip]:
    """Install, import, synth, then per environment: the first sync dry-run, the sync, drift."""
    sample, mode = request.param
    work = tmp_path_factory.mktemp(f"{sample.name}-{mode}")
    installed = _install(sample, mode, control_plane.kubeconfig, work)
    try:
        yield _round_trip(sample, mode, installed, control_plane.kubeconfig, gateway_api, work)
    finally:
        for namespace, _ in installed.values():
            gateway_api.request("DELETE", f"/api/v1/namespaces/{namespace}")


def test_first_sync_changes_nothing_and_drift_is_in_sync(round_trip: RoundTrip) -> None:
    """No spec of an imported object changes, no traffic or security object is created,
    and drift is in sync afterwards (the old managers, kubectl and Helm, raise no alarm)."""
    assert not round_trip.failures, "\n".join(round_trip.failures)


def test_istio_objects_import_exact(round_trip: RoundTrip) -> None:
    """At least 90 % of the Istio objects exact; every other one says why; Gateway API
    objects exact through typed fields (`via: model`)."""
    objects = [o for r in round_trip.reports.values() for o in r["objects"]]
    istio = [o for o in objects if group_of(o["apiVersion"]).endswith(".istio.io")]
    exact = sum(o["status"] == "exact" for o in istio)
    assert exact >= EXACT_SHARE * len(istio), Counter(o["status"] for o in istio)
    for obj in objects:
        if obj["status"] == "approximate":
            assert obj["differences"] and all(d["why"] for d in obj["differences"])
        elif obj["status"] == "not-expressible":
            assert obj["reason"]
    gateway_api = [o for o in objects if group_of(o["apiVersion"]) == GATEWAY_API]
    typed = [o for o in gateway_api if (o["status"], o["via"]) == ("exact", "model")]
    assert typed == gateway_api or not round_trip.all_typed, [
        f"{o['kind']} {o['name']}: {o['reason']}" for o in gateway_api
    ]


def _install(
    sample: Sample, mode: str, kubeconfig: str, work: Path
) -> dict[Variant, tuple[str, list[Path]]]:
    """Each variant of the sample installed in a fresh, injection-labelled namespace:
    variant -> (namespace, the files that hold what was installed)."""
    tools = roundtrip.tools_for(kubeconfig, binaries.locate() / "kubectl")
    placed = {}
    for variant in sample.variants:
        namespace = f"imp-{mode[0]}-{_slug(variant.name)[:40]}-{uuid.uuid4().hex[:6]}"
        if mode == "cluster":  # as the READMEs do it
            tools.kubectl("create", "namespace", namespace)
            tools.kubectl("label", "namespace", namespace, "istio-injection=enabled")
            own = []
        else:  # a folder of manifests holds its namespace, labels and all
            own = [_namespace_file(namespace, work)]
            tools.kubectl("apply", "-f", str(own[0]))
        placed[variant] = (namespace, own + tools.install(variant, namespace, work))
    return placed


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


def _round_trip(
    sample: Sample,
    mode: str,
    installed: dict[Variant, tuple[str, list[Path]]],
    kubeconfig: str,
    kube: kubeapi.Cluster,
    work: Path,
) -> RoundTrip:
    repo = work / "repo"
    envs, dist = repo / "environments", repo / "dist"
    reports = _imported(sample, mode, installed, kubeconfig, envs)
    outcome = RoundTrip(reports=reports, all_typed=sample in roundtrip.SAMPLE_SET)
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(dist)]) == 0
    _commit(repo)
    for env, variant in zip(outcome.reports, installed, strict=True):
        objects = roundtrip.dist_objects(dist / env)
        outcome.failures += roundtrip.false_exact(kube, objects, outcome.reports[env])
        sync = roundtrip.dry_run(kube, objects)
        changed = sync.changed_among({_key(o) for o in outcome.reports[env]["objects"]})
        created = sync.created_traffic_or_security()
        apply.apply(kube, objects)
        diverged = _drift(env, repo, kubeconfig, work)
        no_op = not (changed or created or diverged)
        _print_row(sample, variant, mode, outcome.reports[env], no_op)
        if not no_op:
            outcome.failures.append(f"{env} ({variant.name}): changed {changed}, created {created}")
            outcome.failures += diverged
    return outcome


def _drift(env: str, repo: Path, kubeconfig: str, work: Path) -> list[str]:
    """`meshops drift` of the environment: what is not in sync, a line each (none: exit 0).
    Each environment is synced and checked before the next one's sync: the environments
    share a cluster, and the objects every environment renders for its cluster (the drift
    job's) are the last sync's."""
    out = work / f"{env}.drift.json"
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
    envs: Path,
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
        report = envs.parent / f"{env}.import.json"
        argv = ["import", "--env", env, "--cluster", _cluster(env), *source]
        argv += ["--namespace", namespace, "--environments", str(envs), "--report", str(report)]
        assert cli.main(argv) == 0, " ".join(argv)
        reports[env] = json.loads(report.read_text())
    return reports


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


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def _print_row(
    sample: Sample, variant: Variant, mode: str, report: dict[str, Any], no_op: bool
) -> None:
    """One variant's line: objects, exact, approximate, not-expressible (and of them the
    Istio and Gateway API objects), and whether its first sync was proven a no-op (no spec
    changed, no traffic or security object made, drift in sync afterwards)."""
    objects = report["objects"]
    count = Counter(o["status"] for o in objects)
    istio = [o for o in objects if group_of(o["apiVersion"]).endswith(".istio.io")]
    gateway = [o for o in objects if group_of(o["apiVersion"]) == GATEWAY_API]
    print(
        f"ROUNDTRIP {sample.name} {variant.name} from-{mode}: objects={len(objects)} "
        f"exact={count['exact']} approximate={count['approximate']} "
        f"not-expressible={count['not-expressible']} "
        f"istio-exact={_exact(istio)}/{len(istio)} "
        f"gateway-api-exact-via-model={_exact(gateway, 'model')}/{len(gateway)} "
        f"sync-no-op={'yes' if no_op else 'no'}"
    )


def _exact(objects: list[dict[str, Any]], via: str | None = None) -> int:
    return sum(o["status"] == "exact" and via in (None, o["via"]) for o in objects)
