"""`meshops import` on the command line: what it writes, its report contract, and bad input
(one line, exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charts_py import cli

SAMPLES = Path(__file__).resolve().parents[1] / "testdata" / "istio" / "samples"
BOOKINFO = SAMPLES / "bookinfo"
SOURCES = (
    BOOKINFO / "platform/kube/bookinfo.yaml",
    BOOKINFO / "networking/destination-rule-all.yaml",
    BOOKINFO / "networking/virtual-service-reviews-80-20.yaml",
    BOOKINFO / "networking/bookinfo-gateway.yaml",
)

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: someone, user: {token: not-a-secret}}]
contexts: [{name: here, context: {cluster: nowhere, user: someone}}]
current-context: here
"""


def _import(tmp_path: Path, *extra: str) -> int:
    argv = ["import", "--env", "bookinfo", "--environments", str(tmp_path / "environments")]
    return cli.main([*argv, *extra])


def _from_samples() -> list[str]:
    return ["--from-dir", *map(str, SOURCES)]


def test_it_writes_the_file_and_the_report_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    assert _import(tmp_path, *_from_samples(), "--report", str(report)) == 0
    written = (tmp_path / "environments" / "bookinfo.yaml").read_text(encoding="utf-8")
    assert "virtualServices:" in written
    found = json.loads(report.read_text(encoding="utf-8"))
    assert list(found) == ["schemaVersion", "env", "summary", "objects"]
    assert found["schemaVersion"] == 1 and found["env"] == "bookinfo"
    assert list(found["summary"]) == ["exact", "approximate", "not-expressible"]
    keys = ["apiVersion", "kind", "namespace", "name", "status", "renderedAs", "via"]
    for obj in found["objects"]:
        assert list(obj) == [*keys, "differences", "reason"]
    reviews = next(
        o for o in found["objects"] if (o["kind"], o["name"]) == ("VirtualService", "reviews")
    )
    assert reviews["status"] == "exact" and reviews["via"] == "model"
    assert reviews["renderedAs"] == {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "namespace": "default",
        "name": "reviews",
    }
    assert found["summary"]["exact"] == sum(o["status"] == "exact" for o in found["objects"])
    table = capsys.readouterr().out
    assert table.startswith("import bookinfo: ")
    assert "exact            model  VirtualService default/reviews" in table


def test_same_input_same_bytes(tmp_path: Path) -> None:
    assert _import(tmp_path, *_from_samples()) == 0
    file = tmp_path / "environments" / "bookinfo.yaml"
    first = file.read_bytes()
    assert _import(tmp_path, *_from_samples(), "--force") == 0
    assert file.read_bytes() == first


def test_out_of_band_leaves_what_no_typed_field_says_unmanaged(tmp_path: Path) -> None:
    envoy = tmp_path / "lua.yaml"
    envoy.write_text(
        "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
        "metadata: {name: lua, namespace: default}\n"
        "spec: {configPatches: [{applyTo: HTTP_FILTER, patch: {operation: MERGE}}]}\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    argv = ["--from-dir", str(envoy), "--report", str(report)]
    assert _import(tmp_path, *argv, "--not-expressible", "out-of-band") == 0
    [found] = json.loads(report.read_text(encoding="utf-8"))["objects"]
    assert (found["status"], found["via"], found["renderedAs"]) == ("not-expressible", None, None)
    assert "extensions" not in (tmp_path / "environments/bookinfo.yaml").read_text()
    assert _import(tmp_path, *argv, "--force") == 0
    [found] = json.loads(report.read_text(encoding="utf-8"))["objects"]
    assert (found["status"], found["via"]) == ("not-expressible", "extension")
    assert found["reason"] == "no typed field covers EnvoyFilter"


def _bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    report = tmp_path / "report.json"
    assert _import(tmp_path, *argv, "--report", str(report)) == 2
    assert not report.exists()
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and message.startswith("meshops: error: ")
    return message


def test_an_existing_file_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "environments" / "bookinfo.yaml"
    file.parent.mkdir()
    file.write_text("profile: dev\n", encoding="utf-8")
    assert "--force" in _bad(tmp_path, capsys, *_from_samples())
    assert file.read_text(encoding="utf-8") == "profile: dev\n"


def test_a_file_that_is_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: Service\nmetadata: [\n", encoding="utf-8")
    assert f"{broken}:" in _bad(tmp_path, capsys, "--from-dir", str(broken))
    assert not (tmp_path / "environments").exists()


def test_an_unknown_context(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    argv = ("--kubeconfig", str(kubeconfig), "--context", "elsewhere")
    assert "elsewhere" in _bad(tmp_path, capsys, *argv)
    assert not (tmp_path / "environments").exists()


def test_an_unreachable_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG, encoding="utf-8")
    assert "127.0.0.1:1" in _bad(tmp_path, capsys, "--kubeconfig", str(kubeconfig))
    assert not (tmp_path / "environments").exists()


def test_one_source_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--from-dir" in _bad(tmp_path, capsys)


def test_names_that_are_not_dns_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--cluster" in _bad(tmp_path, capsys, *_from_samples(), "--cluster", "East_1")
    argv = ["import", "--env", "Prod", "--environments", str(tmp_path), *_from_samples()]
    assert cli.main(argv) == 2
    assert "--env" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_argocd_block_is_the_folders_own(tmp_path: Path) -> None:
    """One ApplicationSet serves every environment: the new file says what the others say."""
    environments = tmp_path / "environments"
    environments.mkdir()
    argocd = "argocd: {repoURL: https://git.example.com/mesh.git, revision: main}\n"
    (environments / "prod.yaml").write_text(f"profile: prod\n{argocd}", encoding="utf-8")
    assert _import(tmp_path, *_from_samples()) == 0
    written = (environments / "bookinfo.yaml").read_text(encoding="utf-8")
    assert "argocd: {repoURL: 'https://git.example.com/mesh.git', revision: main}" in written
