"""Gateway API's typed namespace-wide lists (`gatewayApiGateways`, `httpRoutes`, `grpcRoutes`,
`tcpRoutes`, `tlsRoutes`, `referenceGrants`): each entry is rendered as written, with our
labels and its values' origins, admitted by the AppProject and read by the drift Role; a bad
entry is one error naming file, line and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from charts_py import provenance
from charts_py.config import environment
from charts_py.errors import ConfigError
from charts_py.objectref import ObjectRef
from charts_py.render import synth
from tests.conftest import sample

FILE = "environments/dev.yaml"
GROUP = "gateway.networking.k8s.io"

LISTS: dict[str, tuple[str, dict[str, Any]]] = {
    "gatewayApiGateways": (
        "Gateway",
        {
            "name": "shop-gateway",
            "gatewayClassName": "istio",
            "listeners": [
                {
                    "name": "http",
                    "port": 80,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "Same"}},
                }
            ],
        },
    ),
    "httpRoutes": (
        "HTTPRoute",
        {
            "name": "reviews-canary",
            "parentRefs": [{"name": "shop-gateway"}],
            "hostnames": ["dev.shop.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/reviews"}}],
                    "backendRefs": [{"name": "reviews", "port": 9080, "weight": 90}],
                }
            ],
        },
    ),
    "grpcRoutes": (
        "GRPCRoute",
        {
            "name": "cart-grpc",
            "parentRefs": [{"group": "", "kind": "Service", "name": "cart"}],
            "rules": [
                {
                    "matches": [{"method": {"service": "hipstershop.CartService"}}],
                    "backendRefs": [{"name": "cart", "port": 7070}],
                }
            ],
        },
    ),
    "tcpRoutes": (
        "TCPRoute",
        {
            "name": "db-tcp",
            "parentRefs": [{"name": "shop-gateway", "sectionName": "tcp"}],
            "rules": [{"backendRefs": [{"name": "db", "port": 5432}]}],
        },
    ),
    "tlsRoutes": (
        "TLSRoute",
        {
            "name": "secure-passthrough",
            "parentRefs": [{"name": "shop-gateway"}],
            "hostnames": ["secure.shop.example.com"],
            "rules": [{"backendRefs": [{"name": "secure", "port": 443}]}],
        },
    ),
    "referenceGrants": (
        "ReferenceGrant",
        {
            "name": "routes-from-web",
            "from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": "web"}],
            "to": [{"group": "", "kind": "Service"}],
        },
    ),
}
"""Each list's key: its kind and one entry (a fragment of an environment file)."""


def _data() -> dict[str, Any]:
    data = sample("dev")
    for key, (_, entry) in LISTS.items():
        data[key] = [copy.deepcopy(entry)]
    return data


@pytest.fixture(scope="module")
def text() -> str:
    return yaml.safe_dump(_data(), sort_keys=False)


@pytest.fixture(scope="module")
def rendered(text: str) -> synth.Rendered:
    env = environment.load_text(text, "dev", FILE)
    return synth.rendered([env], [env])


def _object(rendered: synth.Rendered, kind: str, name: str) -> dict[str, Any]:
    hits = [
        m.obj
        for m in rendered.manifests
        if m.obj["apiVersion"].startswith(GROUP)
        and (m.obj["kind"], m.obj["metadata"]["name"]) == (kind, name)
    ]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} found"
    return hits[0]


@pytest.mark.parametrize("key", LISTS)
def test_each_list_renders_its_entries_as_written(rendered: synth.Rendered, key: str) -> None:
    kind, entry = LISTS[key]
    obj = _object(rendered, kind, entry["name"])
    assert obj["apiVersion"] == f"{GROUP}/v1"
    assert obj["metadata"]["namespace"] == "shop"
    assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshops"
    assert obj["spec"] == {k: v for k, v in entry.items() if k != "name"}


@pytest.mark.parametrize("key", LISTS)
def test_each_rendered_value_names_its_line(rendered: synth.Rendered, text: str, key: str) -> None:
    kind, entry = LISTS[key]
    (data,) = rendered.side_files.values()
    found = provenance.Provenance.from_bytes(data, text)
    path, value = _first_leaf({k: v for k, v in entry.items() if k != "name"})
    ref = ObjectRef(f"{GROUP}/v1", kind, "shop", entry["name"])
    origin = found.source_of(ref, "/spec/" + "/".join(map(str, path)))
    field = key + "[0]" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    assert isinstance(origin, provenance.EnvField) and origin.field == field, origin
    assert origin.line is not None
    assert text.splitlines()[origin.line - 1].lstrip(" -").startswith(f"{path[-1]}: {value}")


def _first_leaf(data: Any) -> tuple[tuple[str | int, ...], Any]:
    """The path to the first scalar under `data`, and the scalar."""
    if isinstance(data, dict):
        key = next(iter(data))
        path, value = _first_leaf(data[key])
        return (key, *path), value
    if isinstance(data, list):
        path, value = _first_leaf(data[0])
        return (0, *path), value
    return (), data


def test_the_project_admits_and_the_drift_role_reads_the_kinds_used(
    rendered: synth.Rendered,
) -> None:
    project = next(m.obj for m in rendered.manifests if m.obj["kind"] == "AppProject")
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    assert {(GROUP, kind) for kind, _ in LISTS.values()} <= allowed
    role = next(
        m.obj
        for m in rendered.manifests
        if m.obj["kind"] == "Role" and m.obj["metadata"]["namespace"] == "shop"
    )
    read = {r for rule in role["rules"] if GROUP in rule["apiGroups"] for r in rule["resources"]}
    assert read == {
        "gateways",
        "httproutes",
        "grpcroutes",
        "tcproutes",
        "tlsroutes",
        "referencegrants",
    }


def test_an_environment_without_them_admits_none() -> None:
    env = environment.load_text(yaml.safe_dump(sample("dev")), "dev", FILE)
    manifests = synth.rendered([env], [env]).manifests
    project = next(m.obj for m in manifests if m.obj["kind"] == "AppProject")
    assert all(k["group"] != GROUP for k in project["spec"]["namespaceResourceWhitelist"])


def test_a_namespace_block_renders_into_its_namespace() -> None:
    data = sample("dev")
    data["namespaces"] = [{"name": "web", "httpRoutes": [copy.deepcopy(LISTS["httpRoutes"][1])]}]
    env = environment.load_text(yaml.safe_dump(data, sort_keys=False), "dev", FILE)
    route = next(
        m.obj for m in synth.rendered([env], [env]).manifests if m.obj["kind"] == "HTTPRoute"
    )
    assert route["metadata"]["namespace"] == "web"


@pytest.mark.parametrize(
    ("key", "change", "field", "reason"),
    [
        ("gatewayApiGateways", {"listners": []}, "gatewayApiGateways[0].listners", "unknown field"),
        ("httpRoutes", {"hostnames": "dev.shop.example.com"}, "httpRoutes[0].hostnames", "list"),
        (
            "grpcRoutes",
            {"rules": [{"bakendRefs": []}]},
            "grpcRoutes[0].rules[0].bakendRefs",
            "unknown field",
        ),
        (
            "tcpRoutes",
            {"rules": [{"backendRefs": [{"name": "db", "port": "5432"}]}]},
            "tcpRoutes[0].rules[0].backendRefs[0].port",
            "integer",
        ),
        ("tlsRoutes", {"name": "Secure"}, "tlsRoutes[0].name", "pattern"),
        (
            "referenceGrants",
            {"to": [{"group": "", "kind": ""}]},
            "referenceGrants[0].to[0].kind",
            "at least 1",
        ),
    ],
)
def test_bad_input_names_file_field_and_line(
    key: str, change: dict[str, Any], field: str, reason: str
) -> None:
    data = _data()
    data[key][0].update(change)
    with pytest.raises(ConfigError) as caught:
        environment.load_text(yaml.safe_dump(data, sort_keys=False), "dev", FILE)
    error = caught.value
    assert error.file == FILE and error.field == field and reason in error.reason, str(error)
    assert error.line is not None


def test_a_duplicate_name_is_an_error() -> None:
    data = _data()
    data["httpRoutes"].append(copy.deepcopy(LISTS["httpRoutes"][1]))
    with pytest.raises(ConfigError) as caught:
        environment.load_text(yaml.safe_dump(data, sort_keys=False), "dev", FILE)
    assert caught.value.field == "httpRoutes[1].name", str(caught.value)
    assert "duplicate httpRoutes 'reviews-canary'" in caught.value.reason


def test_only_the_kinds_a_list_uses_are_admitted_and_read() -> None:
    data = sample("dev")
    data["tcpRoutes"] = [copy.deepcopy(LISTS["tcpRoutes"][1])]
    env = environment.load_text(yaml.safe_dump(data, sort_keys=False), "dev", FILE)
    manifests = synth.rendered([env], [env]).manifests
    project = next(m.obj for m in manifests if m.obj["kind"] == "AppProject")
    admitted = {
        k["kind"] for k in project["spec"]["namespaceResourceWhitelist"] if k["group"] == GROUP
    }
    assert admitted == {"TCPRoute"}
    role = next(
        m.obj
        for m in manifests
        if m.obj["kind"] == "Role" and m.obj["metadata"]["namespace"] == "shop"
    )
    read = {r for rule in role["rules"] if GROUP in rule["apiGroups"] for r in rule["resources"]}
    assert read == {"tcproutes"}
