"""The dist contract: deterministic bytes, stale files removed, collisions refused, --check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from charts_py import cli, yamlio
from charts_py.errors import RenderError
from charts_py.render import collect, manifest
from charts_py.render.manifest import Manifest
from tests.conftest import SAMPLE_ENVIRONMENTS, sample, write_envs


def synth(envs: Path, dist: Path, *args: str) -> int:
    return cli.main(["synth", "--environments", str(envs), "--dist", str(dist), *args])


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_input_same_bytes(tmp_path: Path) -> None:
    assert synth(SAMPLE_ENVIRONMENTS, tmp_path / "a") == 0
    assert synth(SAMPLE_ENVIRONMENTS, tmp_path / "b") == 0
    first = tree(tmp_path / "a")
    assert first and first == tree(tmp_path / "b")


def test_c_and_python_emitters_agree(rendered: list[Manifest]) -> None:
    """dist/ must not depend on whether a machine's PyYAML has libyaml."""

    class Pure(yaml.SafeDumper):
        pass

    Pure.add_representer(str, manifest._str)
    for m in rendered:
        pure = yaml.dump(
            m.obj,
            Dumper=Pure,
            sort_keys=True,
            default_flow_style=False,
            allow_unicode=True,
            width=4096,
        )
        assert manifest.render(m.obj, "x").decode().split("\n", 1)[1] == pure, m.path


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_our_representer_writes_what_pyyamls_would(value: object) -> None:
    """manifest.Dumper builds dict, list and str nodes itself; PyYAML's representer is the
    reference (same emitter), for any JSON value: quoting, unicode, literal blocks, floats."""

    class Reference(yamlio.DUMPER):  # type: ignore[misc,valid-type]
        pass

    Reference.add_representer(str, manifest._str)
    options = {"sort_keys": True, "default_flow_style": False, "allow_unicode": True, "width": 4096}
    ours = yaml.dump(value, Dumper=manifest.Dumper, **options)
    assert ours == yaml.dump(value, Dumper=Reference, **options)


def test_file_names_follow_the_contract(rendered: list[Manifest]) -> None:
    paths = {m.path for m in rendered}
    assert "prod/prod-east/services/DestinationRule.networking.istio.io.shop.reviews.yaml" in paths
    assert "dev/dev-1/namespaces/Namespace.core._cluster.shop.yaml" in paths
    assert "_bootstrap/argocd/ApplicationSet.argoproj.io.argocd.meshops.yaml" in paths


def test_removed_service_removes_its_files(tmp_path: Path) -> None:
    data = sample("dev")
    write_envs(tmp_path / "envs", dev=data)
    assert synth(tmp_path / "envs", tmp_path / "dist") == 0
    assert any("shipping" in p for p in tree(tmp_path / "dist"))
    data["services"] = [s for s in data["services"] if s["name"] != "shipping"]
    for s in data["services"]:
        s["calls"] = [c for c in s.get("calls", []) if c != "shipping"]
    write_envs(tmp_path / "envs", dev=data)
    assert synth(tmp_path / "envs", tmp_path / "dist") == 0
    assert not [p for p in tree(tmp_path / "dist") if "shipping" in p]


def test_removed_environment_removes_its_folder(tmp_path: Path) -> None:
    write_envs(tmp_path / "envs", dev=sample("dev"), staging=sample("staging"))
    assert synth(tmp_path / "envs", tmp_path / "dist") == 0
    assert (tmp_path / "dist" / "staging").is_dir()
    (tmp_path / "envs" / "staging.yaml").unlink()
    assert synth(tmp_path / "envs", tmp_path / "dist") == 0
    assert not (tmp_path / "dist" / "staging").exists()


def test_env_option_rewrites_only_that_environment(tmp_path: Path) -> None:
    write_envs(tmp_path / "envs", dev=sample("dev"), staging=sample("staging"))
    assert synth(tmp_path / "envs", tmp_path / "dist") == 0
    marker = tmp_path / "dist" / "staging" / "staging-1" / "hand-made.yaml"
    marker.write_text("kind: Note\n")
    data = sample("dev")
    data["services"][0]["image"] = "registry.example.com/shop/frontend:9.9.9"
    write_envs(tmp_path / "envs", dev=data)
    assert synth(tmp_path / "envs", tmp_path / "dist", "--env", "dev") == 0
    assert marker.exists()  # staging was not rewritten
    deployment = tmp_path / "dist/dev/dev-1/services/Deployment.apps.shop.frontend-v1.yaml"
    assert "frontend:9.9.9" in deployment.read_text()


def test_check_detects_edits_and_untracked_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_envs(tmp_path / "envs", dev=sample("dev"))
    dist = tmp_path / "dist"
    assert synth(tmp_path / "envs", dist) == 0
    assert synth(tmp_path / "envs", dist, "--check") == 0
    service = dist / "dev/dev-1/services/Service.core.shop.cart.yaml"
    service.write_text(service.read_text().replace("8080", "8081"))
    stray = dist / "dev/dev-1/services/Service.core.shop.stray.yaml"
    stray.write_text("kind: Service\n")
    capsys.readouterr()
    assert synth(tmp_path / "envs", dist, "--check") == 1
    output = capsys.readouterr()
    assert "would be changed: " in output.out and "Service.core.shop.cart.yaml" in output.out
    assert "would be removed: " in output.out and "stray.yaml" in output.out
    assert "stale (0 added, 1 changed, 1 removed)" in output.err
    assert "8081" in service.read_text()  # --check writes nothing


def test_collisions_are_refused() -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "n"}}
    first = Manifest("e/c/x/" + manifest.file_name(obj), "x", obj)
    second = Manifest("e/c/x/" + manifest.file_name(obj), "y", obj)
    with pytest.raises(
        RenderError, match=r"Service/n/a \(chart x\) and Service/n/a \(chart y\) are the same"
    ):
        collect.check_unique([first, second])


def test_service_colliding_with_a_generated_name_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample("dev")
    data["services"][0]["name"] = "ingress"  # the ingress VirtualService is also shop/ingress
    for s in data["services"]:
        s["calls"] = ["ingress" if c == "frontend" else c for c in s.get("calls", [])]
    write_envs(tmp_path / "envs", dev=data)
    assert synth(tmp_path / "envs", tmp_path / "dist") == 2
    err = capsys.readouterr().err
    assert "are the same object" in err and "VirtualService/shop/ingress" in err
    assert not (tmp_path / "dist").exists()


def test_committed_dist_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    repo = SAMPLE_ENVIRONMENTS.parent
    assert synth(SAMPLE_ENVIRONMENTS, repo / "dist", "--check") == 0, capsys.readouterr().out


def test_committed_schema_is_current() -> None:
    from charts_py.config import schema

    assert schema.SCHEMA_FILE.read_text() == schema.text()
