"""Provenance: each kind of source, the side file synth writes, and its determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli, jsonpointer, provenance
from charts_py.config import environment, source
from charts_py.objectref import ObjectRef
from charts_py.provenance import EnvField, Generated, ProfileDefault
from tests.conftest import SAMPLE_ENVIRONMENTS, sample, write_envs

PROD = SAMPLE_ENVIRONMENTS / "prod.yaml"


def synth(envs: Path, dist: Path, *args: str) -> int:
    return cli.main(["synth", "--environments", str(envs), "--dist", str(dist), *args])


def loaded(data: dict[str, Any]) -> environment.Environment:
    return environment.load_text(yaml.safe_dump(data, sort_keys=False), "prod", "envs/prod.yaml")


def test_a_field_the_file_writes_is_an_env_field() -> None:
    env = environment.load(PROD)
    assert env.origin(("services", 1, "timeout")) == EnvField(str(PROD), "services[1].timeout")
    assert env.origin(("services", 2, "versions", 1, "image")).field == (  # type: ignore[union-attr]
        "services[2].versions[1].image"
    )


def test_a_service_falls_back_to_the_policy_block_the_file_writes() -> None:
    data = sample("prod")
    data["policy"] = {"timeout": "12s", "retries": {"attempts": 3}}
    env = loaded(data)
    assert env.origin(("services", 0, "timeout")) == EnvField("envs/prod.yaml", "policy.timeout")
    attempts = env.origin(("services", 0, "retries", "attempts"))
    assert attempts == EnvField("envs/prod.yaml", "policy.retries.attempts")
    # The rest of the retries block is deep-merged from the profile.
    per_try = env.origin(("services", 0, "retries", "perTryTimeout"))
    assert per_try == ProfileDefault(
        profile="prod", key="retries.perTryTimeout", override="services[0].retries.perTryTimeout"
    )


def test_a_profile_default_names_the_narrowest_override() -> None:
    env = environment.load(PROD)
    assert env.origin(("services", 0, "timeout")) == ProfileDefault(
        profile="prod", key="timeout", override="services[0].timeout"
    )
    assert env.origin(("policy", "mtlsMode")) == ProfileDefault(
        profile="prod", key="mtlsMode", override="policy.mtlsMode"
    )
    # A service that writes its own block takes nothing from the policy's (no deep merge):
    # the unwritten key is the schema's default.
    assert env.origin(("services", 1, "retries", "retryOn")) == ProfileDefault(
        profile="prod", key="services[].retries.retryOn", override="services[1].retries.retryOn"
    )


def test_the_mesh_block_follows_profiles_mesh() -> None:
    data = sample("prod")
    data["mesh"] = {"istiodResources": {"cpu": "750m"}}
    env = loaded(data)
    assert env.origin(("mesh", "istiodResources", "cpu")) == EnvField(
        "envs/prod.yaml", "mesh.istiodResources.cpu"
    )
    assert env.origin(("mesh", "istiodResources", "memory")) == ProfileDefault(
        profile="prod", key="mesh.istiodResources.memory", override="mesh.istiodResources.memory"
    )


def test_an_explicit_null_falls_back_like_absence() -> None:
    data = sample("prod")
    data["services"][0]["timeout"] = None
    env = loaded(data)
    assert isinstance(env.origin(("services", 0, "timeout")), ProfileDefault)


def test_field_names_round_trip() -> None:
    path: source.FieldPath = ("services", 6, "retries", "perTryTimeout")
    assert source.dotted(path) == "services[6].retries.perTryTimeout"
    assert source.field_path(source.dotted(path)) == path
    assert source.dotted(path, indices=False) == "services[].retries.perTryTimeout"


def test_source_of_takes_the_longest_recorded_prefix() -> None:
    ref = ObjectRef("apps/v1", "Deployment", "shop", "web-v1")
    image = EnvField("e.yaml", "services[0].image")
    prov = provenance.Provenance("prod", "c", "e.yaml")
    prov.objects[provenance.ref_key(ref)] = provenance.ObjectProvenance(
        Generated("MeshService construct"), {"/spec/template/spec/containers/0/image": image}
    )
    assert prov.source_of(ref, "/spec/template/spec/containers/0/image") == image
    assert prov.source_of(ref, "/spec/template/spec/containers/0/image/x") == image
    assert prov.source_of(ref, "/spec/template/spec/containers/0/imageX") == Generated(
        "MeshService construct"
    )
    other = ObjectRef("v1", "ConfigMap", "shop", "hand-made")
    assert prov.source_of(other, "/data") == provenance.UNKNOWN


def test_origins_round_trip_through_json() -> None:
    for origin in (
        EnvField("environments/prod.yaml", "services[6].timeout", line=52),
        EnvField("environments/prod.yaml", "services[0].autoscaling.cpu", exact=False),
        ProfileDefault(profile="prod", key="timeout", override="services[1].timeout"),
        Generated("MeshService construct"),
    ):
        assert provenance.origin_from_json(provenance.origin_to_json(origin)) == origin
    assert provenance.origin_to_json(EnvField("f", "a.b", line=3)) == {
        "file": "f",
        "line": 3,
        "field": "a.b",
    }


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    write_envs(root / "environments", prod=sample("prod"))
    assert synth(root / "environments", root / "dist") == 0
    return root / "dist"


def obj(dist: Path, cluster: str, path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((dist / "prod" / cluster / path).read_text())
    return loaded


def test_side_files_sit_beside_the_cluster_folders(dist: Path) -> None:
    assert sorted(p.name for p in (dist / "prod").iterdir() if p.suffix == ".json") == [
        "prod-east.provenance.json",
        "prod-west.provenance.json",
    ]
    assert not list((dist / "prod" / "prod-east").rglob("*.json"))
    assert not list((dist / "_bootstrap").rglob("*.json"))


def test_every_env_field_is_the_files_value_verbatim(dist: Path) -> None:
    """An exact EnvField's pointer holds exactly what the file says at that field."""
    prov = provenance.read(dist, "prod", "prod-east")
    written = source.read(dist.parent / "environments/prod.yaml", "prod.yaml")
    checked = 0
    for placed in (dist / "prod" / "prod-east").rglob("*.yaml"):
        manifest = yaml.safe_load(placed.read_text())
        entry = prov.objects[provenance.ref_key(ObjectRef.of(manifest))]
        for pointer, origin in entry.fields.items():
            if isinstance(origin, EnvField) and origin.exact:
                assert origin.line == written.line_of(origin.path)
                assert _at(manifest, pointer) == _at(written.data, origin.path), pointer
                checked += 1
    assert checked > 30


def test_classic_hotfix_values_are_traced(dist: Path) -> None:
    prov = provenance.read(dist, "prod", "prod-east")
    vs = ObjectRef("networking.istio.io/v1", "VirtualService", "shop", "catalog")
    line = source.read(dist.parent / "environments/prod.yaml", "").line_of(
        ("services", 1, "timeout")
    )
    assert prov.source_of(vs, "/spec/http/0/timeout") == EnvField(
        "environments/prod.yaml", "services[1].timeout", line=line
    )
    cases = {
        ("apps/v1", "Deployment", "shop", "reviews-v2"): {
            "/spec/template/spec/containers/0/image": "services[2].versions[1].image",
            "/spec/template/spec/containers/0/resources/requests/cpu": "resources.cpu",
        },
        ("networking.istio.io/v1", "VirtualService", "shop", "reviews"): {
            "/spec/http/0/route/1/weight": "services[2].versions[1].weight",
            "/spec/http/0/retries/attempts": "retries.attempts",
            "/spec/http/0/retries/perTryTimeout": "retries.perTryTimeout",
        },
        ("autoscaling/v2", "HorizontalPodAutoscaler", "shop", "frontend-v1"): {
            "/spec/minReplicas": "services[0].autoscaling.min",
            "/spec/maxReplicas": "services[0].autoscaling.max",
        },
        ("security.istio.io/v1", "PeerAuthentication", "istio-system", "default"): {
            "/spec/mtls/mode": "mtlsMode",
        },
        ("telemetry.istio.io/v1", "Telemetry", "istio-system", "mesh-default"): {
            "/spec/tracing/0/randomSamplingPercentage": "tracingSampling",
        },
        ("networking.istio.io/v1", "DestinationRule", "shop", "cart"): {
            "/spec/trafficPolicy/outlierDetection/consecutive5xxErrors": (
                "outlierDetection.consecutive5xxErrors"
            ),
            "/spec/trafficPolicy/connectionPool/tcp/maxConnections": (
                "connectionPool.maxConnections"
            ),
        },
    }
    for (api, kind, ns, name), pointers in cases.items():
        for pointer, expected in pointers.items():
            origin = prov.source_of(ObjectRef(api, kind, ns, name), pointer)
            named = origin.field if isinstance(origin, EnvField) else getattr(origin, "key", None)
            assert named == expected, (kind, name, pointer, origin)


def test_lines_are_resolved_on_read_not_stored(dist: Path) -> None:
    data = (dist / "prod/prod-east.provenance.json").read_bytes()
    assert b'"line"' not in data
    raw = json.loads(data)
    assert raw["file"] == "environments/prod.yaml" and raw["schemaVersion"] == 1


def test_same_input_same_side_file_bytes(dist: Path, tmp_path: Path) -> None:
    write_envs(tmp_path / "environments", prod=sample("prod"))
    assert synth(tmp_path / "environments", tmp_path / "dist") == 0
    for cluster in ("prod-east", "prod-west"):
        name = f"prod/{cluster}.provenance.json"
        assert (tmp_path / "dist" / name).read_bytes() == (dist / name).read_bytes()


def test_check_fails_on_a_stale_side_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_envs(tmp_path / "environments", dev=sample("dev"))
    dist = tmp_path / "dist"
    assert synth(tmp_path / "environments", dist) == 0
    side = dist / "dev/dev-1.provenance.json"
    side.write_bytes(side.read_bytes().replace(b"services[0].image", b"services[9].image"))
    capsys.readouterr()
    assert synth(tmp_path / "environments", dist, "--check") == 1
    assert "dev/dev-1.provenance.json" in capsys.readouterr().out


def test_validate_reads_past_the_side_files(dist: Path) -> None:
    assert cli.main(["validate", str(dist / "prod"), "--env", "prod"]) in (0, 1)


def _at(data: Any, path: source.FieldPath | str) -> Any:
    parts = jsonpointer.tokens(path) if isinstance(path, str) else path
    for part in parts:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_values_shared_between_objects_are_traced_in_each(dist: Path) -> None:
    """The ingress VirtualService repeats each exposed service's routes (the same dicts the
    mesh VirtualService holds): unwrapping one object must not strip the other's origins."""
    prov = provenance.read(dist, "prod", "prod-east")
    ingress = ObjectRef("networking.istio.io/v1", "VirtualService", "shop", "ingress")
    routes = obj(dist, "prod-east", "gateways/VirtualService.networking.istio.io.shop.ingress.yaml")
    assert routes["spec"]["http"]
    for i, _ in enumerate(routes["spec"]["http"]):
        for leaf in ("timeout", "retries/attempts", "route/0/weight"):
            found = prov.source_of(ingress, f"/spec/http/{i}/{leaf}")
            assert not isinstance(found, Generated), (i, leaf, found)
