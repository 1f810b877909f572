"""`meshops validate` on a repository we did not write: YAML that is not a manifest is
skipped with one note per file, `--exclude`, `--namespace` and `--no-istioctl`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charts_py import cli
from charts_py.validate import repository
from tests.conftest import REPO

CASES = REPO / "tests" / "testdata" / "validate"
GATEWAY = CASES / "gateway-serves-host" / "served-pass.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    code = cli.main(["validate", "--format", "json", "--no-istioctl", "--env", "dev", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def _repository(root: Path) -> None:
    """A repository as people write them: manifests beside a Helm chart, a kustomization,
    values, an Envoy bootstrap, an Ansible playbook and istioctl's install input."""
    (root / "manifests").mkdir()
    (root / "manifests" / "gateway.yaml").write_text(GATEWAY.read_text())
    (root / "manifests" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [gateway.yaml]\n"
    )
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 2\n")
    (chart / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n"
    )
    (root / "envoy-bootstrap.yaml").write_text(
        "static_resources:\n  listeners: []\n"
        "admin:\n  address: {socket_address: {port_value: 9901}}\n"
    )
    (root / "playbook.yml").write_text("- hosts: all\n  tasks: [{name: install istio}]\n")
    (root / "iop.yaml").write_text(
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {profile: demo}\n"
    )


def test_non_manifest_yaml_is_skipped_with_one_note_per_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _repository(tmp_path)
    code, body, err = run(capsys, str(tmp_path))
    assert code == 0, body
    assert body["summary"] == {"error": 0, "warning": 0, "info": 0}, body["findings"]
    notes = [n for n in body["notes"] if "skipped" in str(n)]
    skipped = sorted(str(n).split(":")[0].removeprefix(f"{tmp_path}/") for n in notes)
    assert skipped == [
        "chart/Chart.yaml",
        "chart/templates/deployment.yaml",
        "chart/values.yaml",
        "envoy-bootstrap.yaml",
        "iop.yaml",
        "manifests/kustomization.yaml",
        "playbook.yml",
    ]
    assert "Traceback" not in err


def test_a_template_outside_a_chart_is_skipped_not_an_abort(tmp_path: Path) -> None:
    (tmp_path / "svc.yaml").write_text(GATEWAY.read_text())
    (tmp_path / "deploy.yaml").write_text("metadata:\n  name: {{ .Values.name }\n")
    loaded = repository.load([tmp_path])
    assert len(loaded.docs) == len(repository.load([GATEWAY]).docs)
    assert loaded.notes == [
        f"{tmp_path}/deploy.yaml: skipped: a template ({{{{ }}}}), not YAML until rendered"
    ]


def test_exclude_leaves_out_files_and_folders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "gateway.yaml").write_text(GATEWAY.read_text())
    (tmp_path / "broken").mkdir()
    broken = (CASES / "route-weights" / "sum-fail.yaml").read_text()
    (tmp_path / "broken" / "weights.yaml").write_text(broken)
    (tmp_path / "other-weights.yaml").write_text(broken)
    assert run(capsys, str(tmp_path))[0] == 1
    code, body, _ = run(capsys, str(tmp_path), "--exclude", "broken", "--exclude", "*-weights.yaml")
    assert code == 0 and body["summary"]["error"] == 0


def test_namespace_places_objects_that_name_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Applied with `kubectl apply -n shop`: FQDN hosts naming shop resolve."""
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\n"
        "spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}\n---\n"
        "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
        "metadata: {name: reviews}\n"
        "spec:\n  host: reviews.shop.svc.cluster.local\n"
        "  subsets: [{name: v1, labels: {version: v1}}]\n"
        "---\napiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
        "metadata: {name: reviews}\nspec:\n  hosts: [reviews.shop.svc.cluster.local]\n"
        "  http: [{route: [{destination: {host: reviews.shop.svc.cluster.local, subset: v1}}]}]\n"
    )
    code, body, _ = run(capsys, str(tmp_path))
    rules = {f["rule"] for f in body["findings"]}  # type: ignore[attr-defined]
    assert "host-resolves" in rules  # the Service landed in default, not in shop
    code, body, _ = run(capsys, str(tmp_path), "--namespace", "shop")
    rules = {f["rule"] for f in body["findings"]}  # type: ignore[attr-defined]
    assert code == 0 and "host-resolves" not in rules


def test_no_istioctl_is_said(capsys: pytest.CaptureFixture[str]) -> None:
    _, body, _ = run(capsys, str(GATEWAY))
    assert any("--no-istioctl" in str(n) for n in body["notes"])  # type: ignore[attr-defined]


def test_nothing_but_non_manifests_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    code = cli.main(["validate", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "no Kubernetes objects found" in err and err.count("\n") == 1
