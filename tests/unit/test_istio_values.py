"""Every Helm values key meshops sets exists in the pinned Istio chart it is set for.

Helm ignores a misspelt key without a word, so a typo would silently leave istiod or a gateway
on the chart's default. The charts' values.yaml files and the MeshConfig API come from the
`istio.io/istio` Go module pinned per release (scripts/fetch_istio_charts.py caches them; CI
runs it first, so under CI=true a missing cache fails instead of skipping).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py.config import environment, releases
from charts_py.render.manifest import Manifest
from tests.conftest import REPO, sample, write_envs

INTERNAL = "_internal_defaults_do_not_set"
"""Istio's charts keep their defaults under this key; users set the keys at the top level."""
FREE_FORM = frozenset({"labels"})
"""Maps whose keys are the user's (label names), whatever the chart's example entries."""


def release_dir(version: str) -> Path:
    root = os.environ.get("MESHOPS_ISTIO_CHARTS")
    base = Path(root) if root else Path.home() / ".cache" / "meshops" / "istio-charts"
    folder = base / version
    if not (folder / "charts.json").is_file():
        reason = f"Istio {version} chart values not cached: run scripts/fetch_istio_charts.py"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@cache
def chart_values(version: str, chart: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (release_dir(version) / chart / "values.yaml").read_text()
    )
    return {**data.get(INTERNAL, {}), **{k: v for k, v in data.items() if k != INTERNAL}}


@cache
def mesh_config_fields(version: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """MeshConfig's messages: `{message: {jsonName: (type, is_map)}}`, from config.proto."""
    messages: dict[str, dict[str, tuple[str, bool]]] = {}
    stack: list[tuple[str, str]] = []  # (kind, dotted name)
    field = re.compile(r"^(?:repeated |optional )?(map<[^>]+>|[\w.]+) (\w+) = \d+")
    for raw in (release_dir(version) / "meshconfig.proto").read_text().splitlines():
        line = raw.split("//", 1)[0].strip()
        opened = re.match(r"^(message|enum|oneof) (\w+) \{", line)
        if opened:
            kind, name = opened.groups()
            parent = next((n for k, n in reversed(stack) if k == "message"), "")
            dotted = f"{parent}.{name}".lstrip(".") if kind != "oneof" else parent
            stack.append((kind, dotted))
            if kind == "message":
                messages.setdefault(dotted, {})
        elif stack and stack[-1][0] in ("message", "oneof") and (match := field.match(line)):
            type_, name = match.groups()
            messages[stack[-1][1]][_camel(name)] = (type_, type_.startswith("map<"))
        if line.endswith("}") and stack and not line.startswith("option"):
            stack.pop()
    return messages


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _resolve(messages: dict[str, Any], scope: str, type_: str) -> str | None:
    parts = scope.split(".")
    for depth in range(len(parts), -1, -1):
        candidate = ".".join([*parts[:depth], type_])
        if candidate in messages:
            return candidate
    return None  # a scalar, an enum or another file's type (google.protobuf.Struct): a leaf


def missing_mesh_config(version: str, values: Any, message: str, at: str) -> list[str]:
    messages = mesh_config_fields(version)
    out: list[str] = []
    for key, value in values.items():
        if key not in messages[message]:
            out.append(f"{at}.{key}")
            continue
        type_, is_map = messages[message][key]
        target = None if is_map else _resolve(messages, message, type_)
        for item in value if isinstance(value, list) else [value]:
            if target is not None and isinstance(item, dict):
                out += missing_mesh_config(version, item, target, f"{at}.{key}")
    return out


PROFILE = "profile"
"""Not in values.yaml: each chart's templates/zzz_profile.yaml reads it and merges the values of
its `files/profile-<name>.yaml` under the user's (an unknown name fails helm)."""


def has_profile(version: str, chart: str, name: object) -> bool:
    """Whether the chart has the Helm profile `name`."""
    return (release_dir(version) / chart / "files" / f"profile-{name}.yaml").is_file()


def missing_values(version: str, chart: str, values: dict[str, Any]) -> list[str]:
    """Keys of `values` that the chart's values.yaml does not have (meshConfig: MeshConfig;
    `profile`: one of the chart's profiles)."""

    def walk(given: dict[str, Any], known: dict[str, Any], at: str) -> list[str]:
        out: list[str] = []
        for key, value in given.items():
            path = f"{at}.{key}".lstrip(".")
            if key == PROFILE and not at:
                out += [] if has_profile(version, chart, value) else [path]
            elif key not in known:
                out.append(path)
            elif key == "meshConfig" and not at:
                out += missing_mesh_config(version, value, "MeshConfig", path)
            elif isinstance(value, dict) and isinstance(known[key], dict) and known[key]:
                out += [] if key in FREE_FORM else walk(value, known[key], path)
        return out

    return walk(values, chart_values(version, chart), "")


def control_plane(manifests: list[Manifest]) -> list[dict[str, Any]]:
    return [
        m.obj for m in manifests if m.chart == "control-plane" and m.obj["kind"] == "Application"
    ]


def assert_keys_exist(apps: list[dict[str, Any]]) -> None:
    assert apps
    for app in apps:
        source = app["spec"]["source"]
        values = source["helm"]["valuesObject"]
        missing = missing_values(source["targetRevision"], source["chart"], values)
        assert not missing, f"{app['metadata']['name']}: not in chart {source['chart']}: {missing}"


@pytest.mark.parametrize("profile", ["dev", "staging", "prod"])
def test_every_values_key_exists_in_the_pinned_chart(
    rendered: list[Manifest], profile: str
) -> None:
    envs = environment.load_all(REPO / "environments")
    names = {n for n, e in envs.items() if e.spec.profile == profile}
    apps = [
        a
        for a in control_plane(rendered)
        if a["metadata"]["labels"]["meshops.dev/environment"] in names
    ]
    charts = {a["spec"]["source"]["chart"] for a in apps}
    # The staging-profile samples (staging, ambient) take their ingress from Gateway API:
    # istiod deploys it, no Helm gateway release; ambient's cluster runs the node agents.
    expected = {"gateway"} if profile != "staging" else {"cni", "ztunnel"}
    assert {"base", "istiod"} | expected <= charts
    assert_keys_exist(apps)


def test_a_canary_revision_sets_only_known_keys(tmp_path: Path) -> None:
    from charts_py.charts import control_plane as chart
    from charts_py.constructs import objects
    from charts_py.render import collect

    prod = sample("prod")
    current = releases.CURRENT
    prod["mesh"] = {
        "revisions": [
            {"name": current.revision, "version": current.version},
            {"name": "canary", "version": current.version},
        ],
        "revision": "canary",
        "tracing": {"provider": "zipkin", "endpoint": "zipkin.observability:9411"},
    }
    envs = environment.load_all(write_envs(tmp_path / "environments", prod=prod))
    with objects.batch():
        app = chart.build(list(envs.values()))
    manifests = collect.manifests(app, "_bootstrap")
    assert_keys_exist(control_plane(manifests))


def test_the_check_catches_a_misspelt_key() -> None:
    version = releases.CURRENT.version
    assert missing_values(version, "istiod", {"autoscaleMinimum": 2}) == ["autoscaleMinimum"]
    assert missing_values(version, "gateway", {"service": {"kind": "ClusterIP"}}) == [
        "service.kind"
    ]
    mesh = {"meshConfig": {"trustDomian": "x", "outboundTrafficPolicy": {"mod": "ALLOW_ANY"}}}
    assert missing_values(version, "istiod", mesh) == [
        "meshConfig.trustDomian",
        "meshConfig.outboundTrafficPolicy.mod",
    ]
    assert missing_values(version, "istiod", {"profile": "ambiant"}) == ["profile"]
    assert missing_values(version, "cni", {"profile": "ambient", "ambient": {"enable": 1}}) == [
        "ambient.enable"
    ]
    assert missing_values(version, "ztunnel", {"multiCluster": {"name": "x"}}) == [
        "multiCluster.name"
    ]
    provider = {"meshConfig": {"extensionProviders": [{"name": "o", "opentelemetry": {"srv": 1}}]}}
    assert missing_values(version, "istiod", provider) == [
        "meshConfig.extensionProviders.opentelemetry.srv"
    ]
