"""Every path a side file records resolves in the environment file to the value rendered.

Synth renders the sample environments and a generated estate (scripts/bench_synth.py's), and
each recorded origin is checked against the file it names: a field the file wrote holds the
rendered value (when exact); a default's `override` is a field the file left out, and its `key`
names the profile's value (or, for a schema default, the model's) that was rendered.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from charts_py import cli, jsonpointer, provenance, yamlio
from charts_py.config import environment, model, origin, profiles, source, view
from tests.conftest import REPO, SAMPLE_ENVIRONMENTS, write_envs


@dataclass
class Checked:
    """How many recorded origins of each kind were checked."""

    fields: int = 0
    team_fields: int = 0
    defaults: int = 0
    files: list[str] = field(default_factory=list)


def estate(services: int, clusters: int) -> dict[str, Any]:
    """The benchmark's estate (one source of its shape). The script imports its sibling
    `benchdoc` as scripts do when run, so scripts/ goes on the path first."""
    if str(REPO / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location("bench_synth", REPO / "scripts/bench_synth.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    data: dict[str, Any] = bench.estate(services, clusters)
    return data


def synth(envs: Path, dist: Path) -> None:
    assert cli.main(["synth", "--environments", str(envs), "--dist", str(dist)]) == 0


def rendered_objects(cluster_dir: Path) -> dict[str, Any]:
    """The objects of one cluster folder by side-file key (file name without `.yaml`)."""
    return {
        path.name.removesuffix(".yaml"): yamlio.load(path.read_bytes())
        for path in cluster_dir.rglob("*.yaml")
    }


def at_pointer(obj: Any, pointer: str) -> Any:
    for token in jsonpointer.tokens(pointer):
        obj = obj[int(token)] if isinstance(obj, list) else obj[token]
    return obj


def at_path(data: Any, path: source.FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def check_side_files(envs: Path, dist: Path, checked: Checked) -> None:
    """Check every origin of every side file under `dist` against the files in `envs`."""
    loaded = environment.load_all(envs)
    for side in sorted(dist.glob(f"*/*{provenance.SUFFIX}")):
        prov = provenance.Provenance.from_bytes(side.read_bytes())
        env = loaded[prov.env]

        def raw(file: str | None, top: str = prov.file) -> Any:
            """The content of a file a side file names (`environments/prod/payments.yaml`)."""
            return yaml.safe_load(envs.joinpath(*Path(file or top).parts[1:]).read_text())

        objects = rendered_objects(dist / prov.env / prov.cluster)
        for key, obj in prov.objects.items():
            for pointer, found in obj.fields.items():
                where = f"{side.name} {key} {pointer}"
                value = at_pointer(objects[key], pointer)
                if isinstance(found, provenance.EnvField):
                    check_field(raw(found.file), found, value, where)
                    checked.fields += 1
                    checked.team_fields += found.file != prov.file
                elif isinstance(found, provenance.ProfileDefault):
                    check_default(env, raw(None), raw(found.file), found, value, where)
                    checked.defaults += 1
        checked.files.append(side.name)


def check_field(raw: Any, found: provenance.EnvField, value: Any, where: str) -> None:
    assert origin.written(raw, found.path), f"{where}: {found.field} is not in the file"
    if found.exact:
        assert at_path(raw, found.path) == value, f"{where}: {found.field}"


def check_default(
    env: environment.Environment,
    raw: Any,
    raw_override: Any,
    found: provenance.ProfileDefault,
    value: Any,
    where: str,
) -> None:
    override = source.field_path(found.override)
    assert not origin.written(raw_override, override), f"{where}: {found.override} is written"
    assert found.profile == env.spec.profile, where
    key = source.field_path(found.key)
    if found.key.startswith("mesh."):
        default = defined(profiles.MESH[found.profile], key[1:], env.at(("mesh", *key[1:])))
    elif "[]" in found.key or key[0] not in profiles.PROFILES[found.profile]:
        # A schema default of a section the profiles do not hold: the key is the override's
        # path without its indexes.
        assert found.key == source.dotted(override, indices=False), where
        default = schema_default(env, found, override)
    else:
        default = defined(profiles.PROFILES[found.profile], key, env.at(("policy", *key)))
    if found.exact:
        assert default == value, f"{where}: {found.key} is {default!r}, rendered {value!r}"


def defined(table: dict[str, Any], key: source.FieldPath, effective: view.View) -> Any:
    """The profile table's value at `key`; where the table leaves a key out (`autoscaling.cpu`),
    the schema's default of the model the table fills (the effective policy's or mesh's)."""
    try:
        return at_path(table, key)
    except KeyError:
        parent = at_path(table, key[:-1])
        assert isinstance(parent, dict) and key[-1] not in parent
        return plain(effective)


def schema_default(
    env: environment.Environment, found: provenance.ProfileDefault, override: source.FieldPath
) -> Any:
    """The model's value at `override` (of a team's file when the default names one)."""
    if found.file is None:
        return plain(env.at(override))
    team = next(t for t in env.team_files if t.raw.file.endswith(found.file.split("/", 1)[1]))
    services = {id(s): s for ns in team.spec.namespaces for s in ns.services}
    for service in env.services:
        if id(service) in services:
            traced = env.traced(service)
            if traced.where == override[: len(traced.where)]:
                for key in override[len(traced.where) :]:
                    traced = traced.step(key)
                return plain(traced)
    raise AssertionError(f"{found.override} is not in {found.file}")


def plain(found: view.View) -> Any:
    value = found.plain
    return value.model_dump(by_alias=True) if isinstance(value, pydantic.BaseModel) else value


def test_every_recorded_path_of_the_samples_resolves_to_the_rendered_value(
    tmp_path: Path,
) -> None:
    checked = Checked()
    check_side_files(SAMPLE_ENVIRONMENTS, REPO / "dist", checked)
    # Every sample cluster has a side file, each with fields and defaults checked.
    assert len(checked.files) == len(list((REPO / "dist").glob(f"*/*{provenance.SUFFIX}")))
    assert len(checked.files) >= 4
    assert checked.fields > 100
    assert checked.defaults > 100
    assert checked.team_fields > 10  # the team files' own fields
    print(f"samples: {checked}")


def test_every_recorded_path_of_the_estate_resolves_to_the_rendered_value(
    tmp_path: Path,
) -> None:
    data = estate(services=40, clusters=2)
    data["policy"] = {"timeout": "20s", "retries": {"attempts": 3}}
    data["services"][1] |= {"timeout": "12s", "autoscaling": {"min": 2, "max": 4, "cpu": 55.5}}
    data["services"][2] |= {"env": {"MODE": "fast"}, "outlierDetection": None}
    envs = write_envs(tmp_path / "envs", estate=data)
    synth(envs, tmp_path / "dist")
    checked = Checked()
    check_side_files(envs, tmp_path / "dist", checked)
    assert checked.files == ["estate-0.provenance.json", "estate-1.provenance.json"]
    assert checked.fields > 300
    assert checked.defaults > 1000
    print(f"estate: {checked}")
    shutil.rmtree(tmp_path / "dist")


def test_a_service_left_out_falls_back_to_the_policy_with_its_own_field_as_override() -> None:
    env = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    service = env.spec.services[0]
    assert service.retries is None
    per_try = env.traced(service).retries.per_try_timeout
    assert per_try.where == ("policy", "retries", "perTryTimeout")
    assert per_try.override == ("services", 0, "retries", "perTryTimeout")
    assert per_try.plain == env.policy.retries.per_try_timeout
    assert env.at(("services", 0, "retries", "perTryTimeout")).where == per_try.where


def test_the_view_records_aliases_list_indexes_and_map_keys() -> None:
    env = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    canary = next(s for s in env.spec.services if len(s.versions) > 1)
    index = env.spec.services.index(canary)
    weight = env.traced(canary).versions[1].weight
    assert weight.where == ("services", index, "versions", 1, "weight")
    assert weight.traced() == provenance.Traced(
        canary.versions[1].weight, env.origin(("services", index, "versions", 1, "weight"))
    )
    pool = env.traced(env.policy).connection_pool.http1_max_pending_requests
    assert pool.where == ("policy", "connectionPool", "http1MaxPendingRequests")


def test_a_part_of_another_environment_is_refused() -> None:
    prod = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    dev = environment.load(SAMPLE_ENVIRONMENTS / "dev.yaml")
    with pytest.raises(KeyError, match="not a part of environment 'prod'"):
        prod.traced(dev.spec.services[0])


def test_no_model_field_is_named_like_the_views_own_attributes() -> None:
    own = {name for name in dir(view.View) if not name.startswith("_")} | set(view.View.__slots__)
    models = [m for m in vars(model).values() if isinstance(m, type)]
    for cls in models:
        if issubclass(cls, pydantic.BaseModel):
            assert not own & set(cls.model_fields), cls.__name__
