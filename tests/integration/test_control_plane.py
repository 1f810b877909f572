"""The local control plane and `meshops apply` against it: real kube-apiserver, real etcd."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from charts_py import cli, contract, distdir, kubeapi
from charts_py.cluster import binaries, controlplane
from charts_py.errors import ClusterError, ClusterUnreachable, MeshopsError

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"


def test_every_generated_object_is_accepted_by_the_api_server(kube: kubeapi.Cluster) -> None:
    """The API server is the schema validator of record for dist/: dry-run every object."""
    folders = sorted(p for p in DIST.glob("*/*") if p.is_dir())
    assert len(folders) == 7  # ambient, dev, staging, prod x2, _bootstrap/{argocd,control-plane}
    namespaces = {p.obj["metadata"].get("namespace") for f in folders for p in distdir.read(f)}
    for ns in sorted(n for n in namespaces if n):  # dry-runs need their namespace to exist
        kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
            field_manager="meshops-tests",
        )
    checked = 0
    for folder in folders:
        for placed in distdir.read(folder):
            result = kube.apply(placed.obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
            assert result["metadata"]["name"] == placed.obj["metadata"]["name"]
            checked += 1
    assert checked == len(list(DIST.rglob("*.yaml")))


def test_apply_twice_second_run_changes_nothing(
    control_plane: controlplane.LocalCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "apply",
        "--env",
        "staging",
        "--kubeconfig",
        control_plane.kubeconfig,
        "--dist",
        str(DIST),
    ]
    total = len(list((DIST / "staging").rglob("*.yaml")))
    assert cli.main(args) == 0
    first = capsys.readouterr().out.splitlines()[-1]
    assert first.endswith("0 unchanged") or " configured" in first
    assert cli.main(args) == 0
    second = capsys.readouterr().out.splitlines()[-1]
    assert second.endswith(f"0 created, 0 configured, {total} unchanged"), second


def test_apply_uses_the_argocd_field_manager(
    control_plane: controlplane.LocalCluster, kube: kubeapi.Cluster
) -> None:
    assert (
        cli.main(
            [
                "apply",
                "--env",
                "staging",
                "--kubeconfig",
                control_plane.kubeconfig,
                "--dist",
                str(DIST),
            ]
        )
        == 0
    )
    rule = next(
        o
        for o in kube.list(kube.resource("networking.istio.io/v1", "DestinationRule"))
        if o["metadata"]["name"] == "cart"
    )
    managers = {m["manager"] for m in rule["metadata"]["managedFields"]}
    assert managers == {"argocd-controller"}
    assert rule["metadata"]["labels"][contract.ENVIRONMENT] == "staging"


def test_dry_run_changes_nothing(
    control_plane: controlplane.LocalCluster,
    kube: kubeapi.Cluster,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        cli.main(
            [
                "apply",
                "--env",
                "staging",
                "--kubeconfig",
                control_plane.kubeconfig,
                "--dist",
                str(DIST),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        cli.main(
            [
                "apply",
                "--env",
                "dev",
                "--dry-run",
                "--kubeconfig",
                control_plane.kubeconfig,
                "--dist",
                str(DIST),
            ]
        )
        == 0
    )
    assert "(dry run)" in capsys.readouterr().out
    ns = next(
        o for o in kube.list(kube.resource("v1", "Namespace")) if o["metadata"]["name"] == "shop"
    )
    assert ns["metadata"]["labels"][contract.ENVIRONMENT] == "staging"


def test_rejected_object_names_object_and_reason(
    control_plane: controlplane.LocalCluster,
    namespace: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "dist" / "qa" / "qa-1" / "services"
    folder.mkdir(parents=True)
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "c", "image": "x:1"}]},
            },
        },
    }
    (folder / "Deployment.apps.x.broken.yaml").write_text(yaml.safe_dump(bad))
    code = cli.main(
        [
            "apply",
            "--env",
            "qa",
            "--kubeconfig",
            control_plane.kubeconfig,
            "--dist",
            str(tmp_path / "dist"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert f"Deployment {namespace}/broken:" in err
    assert "spec.template.metadata.labels" in err and "does not match template" in err


def test_unreachable_server_is_a_clear_error(
    control_plane: controlplane.LocalCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "kubeconfig"
    port = controlplane.free_port()
    controlplane.write_kubeconfig(
        config, f"https://127.0.0.1:{port}", Path(control_plane.state_dir) / "pki" / "ca.crt", "x"
    )
    with pytest.raises(ClusterUnreachable, match=f"127.0.0.1:{port}"):
        kubeapi.Cluster.connect(str(config))
    assert (
        cli.main(["apply", "--env", "staging", "--kubeconfig", str(config), "--dist", str(DIST)])
        == 2
    )
    assert "meshops: error:" in capsys.readouterr().err


def test_cluster_up_status_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    assert cli.main(["cluster", "up", "--state-dir", str(state)]) == 0
    cluster = controlplane.LocalCluster.load(state)
    assert cluster is not None
    assert cli.main(["cluster", "status", "--state-dir", str(state)]) == 0
    assert cli.main(["cluster", "up", "--state-dir", str(state)]) == 0  # idempotent
    assert controlplane.LocalCluster.load(state) == cluster
    assert cli.main(["cluster", "down", "--state-dir", str(state)]) == 0
    assert not Path(f"/proc/{cluster.apiserver_pid}").exists()
    assert not Path(f"/proc/{cluster.etcd_pid}").exists()
    assert not state.exists()
    assert cli.main(["cluster", "status", "--state-dir", str(state)]) == 1


def test_cluster_up_with_a_kubeconfig_while_running_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `up --kubeconfig F` reuses the running control plane and still writes F."""
    state = tmp_path / "state"
    assert cli.main(["cluster", "up", "--state-dir", str(state)]) == 0
    first = controlplane.LocalCluster.load(state)
    assert first is not None
    wanted = tmp_path / "elsewhere" / "kubeconfig"
    capsys.readouterr()
    try:
        assert (
            cli.main(["cluster", "up", "--state-dir", str(state), "--kubeconfig", str(wanted)]) == 0
        )
        assert f"export KUBECONFIG={wanted}" in capsys.readouterr().out
        assert controlplane.LocalCluster.load(state) == first  # the same processes, reused
        assert stat.S_IMODE(wanted.stat().st_mode) == 0o600
        assert yaml.safe_load(wanted.read_text())["clusters"][0]["cluster"]["server"] == (
            first.server
        )
        kube = kubeapi.Cluster.connect(str(wanted))
        names = {n["metadata"]["name"] for n in kube.list(kube.resource("v1", "Namespace"))}
        assert "kube-system" in names  # the written file authenticates to the running server
    finally:
        assert cli.main(["cluster", "down", "--state-dir", str(state)]) == 0


def test_a_crashing_api_server_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = binaries.locate()
    assets = tmp_path / "assets"
    assets.mkdir()
    os.symlink(real / "etcd", assets / "etcd")
    # The real binary with a flag it rejects: it prints why and exits.
    script = assets / "kube-apiserver"
    script.write_text(f'#!/bin/sh\nexec {real / "kube-apiserver"} --no-such-flag "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets))
    state = tmp_path / "state"
    with pytest.raises(ClusterError, match="kube-apiserver exited during start-up") as info:
        controlplane.up(state)
    assert "unknown flag: --no-such-flag" in str(info.value)
    assert not state.exists()  # nothing left running or written
    shutil.rmtree(assets)


def test_aggregated_discovery_finds_what_a_request_per_group_version_finds(
    kube: kubeapi.Cluster,
) -> None:
    """Two requests instead of one per group version (30 here, more in a real cluster), and
    the same resources, preferred versions first, CRDs included."""
    aggregated = kube._aggregated_discovery()
    assert aggregated is not None, "the API server answered in the old form"
    legacy = kube._legacy_discovery()
    assert sorted(aggregated, key=repr) == sorted(legacy, key=repr)

    def preferred(resources: list[kubeapi.Resource]) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for r in resources:
            out.setdefault((kubeapi.group_of(r.api_version), r.kind), r.api_version)
        return out

    assert preferred(aggregated) == preferred(legacy)
    assert preferred(aggregated)[("networking.istio.io", "VirtualService")] == (
        "networking.istio.io/v1"
    )


def test_discovery_from_a_server_without_aggregated_discovery(
    control_plane: controlplane.LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server before Kubernetes 1.26 answers `/api` and `/apis` in the old form whatever
    the client accepts (asked for plain JSON here, this one does too): discovery then takes
    a request per group version, and finds the same."""
    aggregated = kubeapi.Cluster.connect(control_plane.kubeconfig)
    old = kubeapi.Cluster.connect(control_plane.kubeconfig)
    asked: list[str] = []
    request = old.request

    def plain_json(method: str, path: str, **kwargs: object) -> object:
        asked.append(path)
        return request(method, path, **{**kwargs, "accept": "application/json"})  # type: ignore[arg-type]

    monkeypatch.setattr(old, "request", plain_json)
    assert old._aggregated_discovery() is None
    assert old.served("apps/v1", "Deployment") == aggregated.served("apps/v1", "Deployment")
    assert old._discovery == aggregated._discovery
    assert len(asked) > 10  # one per group version


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1", "v1"])
def test_every_served_istio_version_rejects_a_typo_as_validate_does(
    kube: kubeapi.Cluster, namespace: str, version: str
) -> None:
    """The packaged CRDs serve v1alpha3, v1beta1 and v1 with one schema: the API server
    refuses a misspelt field at each (server-side apply is strict), and meshops validate
    reports it at each, at the same field. (kube-apiserver 1.34 answers an apply to a version
    other than the storage one with HTTP 500, not 422, which kubeapi retries before giving up:
    the refusal is matched by its text.)"""
    from charts_py.validate import schemas

    rule = {
        "apiVersion": f"networking.istio.io/{version}",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": namespace},
        "spec": {
            "host": "reviews",
            "trafficPolicy": {"outlierDetection": {"consecutiveErrorz": 5}},
        },
    }
    with pytest.raises(MeshopsError, match="consecutiveErrorz: field not declared in schema"):
        kube.apply(rule, field_manager="meshops-tests", dry_run=True)
    found = list(schemas.violations(rule))
    assert [p for p, _ in found] == ["/spec/trafficPolicy/outlierDetection/consecutiveErrorz"]
    fixed = {**rule, "spec": {"host": "reviews", "trafficPolicy": {"outlierDetection": {}}}}
    kube.apply(fixed, field_manager="meshops-tests", dry_run=True)
    assert list(schemas.violations(fixed)) == []
