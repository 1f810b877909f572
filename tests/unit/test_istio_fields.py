"""Istio's routing and security in environment files: per feature, the fragment, the rendered
object, the error on bad input; provenance and adoption of the new fields; the generated
types are current (scripts/gen_istio_types.py --check)."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from charts_py import provenance
from charts_py.config import environment, source
from charts_py.errors import ConfigError
from charts_py.objectref import ObjectRef
from charts_py.render import synth
from tests.conftest import REPO, sample
from tests.unit.test_provenance_paths import at_path

FILE = "environments/dev.yaml"

FRAGMENTS: dict[str, Any] = {
    "reviews": {
        "http": [
            {
                "name": "jason",
                "match": [
                    {
                        "headers": {"end-user": {"exact": "jason"}},
                        "uri": {"prefix": "/api"},
                        "method": {"exact": "GET"},
                        "queryParams": {"debug": {"exact": "1"}},
                        "port": 8080,
                        "sourceLabels": {"app": "frontend"},
                    }
                ],
                "rewrite": {"uri": "/v2/api"},
                "headers": {
                    "request": {"set": {"x-canary": "yes"}},
                    "response": {"remove": ["server"]},
                },
                "corsPolicy": {"allowOrigins": [{"exact": "https://shop.example.com"}]},
                "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
                "mirror": {"host": "reviews", "subset": "v1"},
                "mirrorPercentage": {"value": 5.0},
                "timeout": "3s",
            },
            {
                "match": [{"uri": {"exact": "/old"}}],
                "redirect": {"uri": "/new", "redirectCode": 301},
            },
            {"route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
        ],
        "versions": [
            {"name": "v1", "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}}},
            {"name": "v2"},
        ],
        "fault": None,
        "trafficPolicy": {
            "loadBalancer": {
                "consistentHash": {"httpHeaderName": "x-user"},
                "localityLbSetting": {
                    "distribute": [
                        {"from": "eu-west-1/*", "to": {"eu-west-1/*": 80, "eu-central-1/*": 20}}
                    ]
                },
            },
            "connectionPool": {
                "tcp": {
                    "maxConnections": 100,
                    "connectTimeout": "1s",
                    "tcpKeepalive": {"time": "60s"},
                },
                "http": {
                    "http1MaxPendingRequests": 10,
                    "maxRequestsPerConnection": 1,
                    "idleTimeout": "30s",
                    "h2UpgradePolicy": "UPGRADE",
                    "maxRetries": 3,
                },
            },
            "portLevelSettings": [{"port": {"number": 8080}, "tls": {"mode": "ISTIO_MUTUAL"}}],
        },
        "authorizationPolicies": [
            {
                "name": "reviews-deny-admin",
                "action": "DENY",
                "rules": [
                    {
                        "from": [{"source": {"principals": ["cluster.local/ns/other/sa/crawler"]}}],
                        "to": [
                            {"operation": {"paths": ["/admin/*"], "methods": ["POST", "DELETE"]}}
                        ],
                    }
                ],
            },
            {
                "name": "reviews-jwt",
                "action": "ALLOW",
                "rules": [
                    {
                        "from": [
                            {"source": {"requestPrincipals": ["https://issuer.example.com/*"]}}
                        ],
                        "when": [{"key": "request.auth.claims[groups]", "values": ["reviewers"]}],
                    }
                ],
            },
            {
                "name": "reviews-audit",
                "action": "AUDIT",
                "rules": [{"to": [{"operation": {"methods": ["DELETE"]}}]}],
            },
            {
                "name": "reviews-ext-authz",
                "action": "CUSTOM",
                "provider": {"name": "ext-authz"},
                "rules": [{}],
            },
        ],
        "peerAuthentications": [
            {
                "name": "reviews",
                "mtls": {"mode": "STRICT"},
                "portLevelMtls": {"9090": {"mode": "PERMISSIVE"}},
            }
        ],
        "requestAuthentications": [
            {
                "name": "reviews-jwt",
                "jwtRules": [
                    {
                        "issuer": "https://issuer.example.com",
                        "jwksUri": "https://issuer.example.com/jwks",
                    }
                ],
            }
        ],
        "telemetries": [{"name": "reviews", "tracing": [{"randomSamplingPercentage": 50.0}]}],
        "extensions": [
            {
                "apiVersion": "networking.istio.io/v1alpha3",
                "kind": "EnvoyFilter",
                "name": "reviews-lua",
                "spec": {
                    "configPatches": [
                        {
                            "applyTo": "HTTP_FILTER",
                            "patch": {"operation": "INSERT_BEFORE", "value": {"name": "envoy.lua"}},
                        }
                    ]
                },
            }
        ],
    },
    "cart": {
        "ports": [
            {"name": "tcp-redis", "port": 6379},
            {"name": "tls-cache", "port": 6380, "targetPort": 7380},
        ],
        "tcp": [
            {
                "match": [{"port": 6379}],
                "route": [{"destination": {"host": "cart", "port": {"number": 6379}}}],
            }
        ],
        "tls": [
            {
                "match": [{"port": 6380, "sniHosts": ["cache.shop.example.com"]}],
                "route": [{"destination": {"host": "cart", "port": {"number": 6380}}}],
            }
        ],
    },
}

TOP: dict[str, Any] = {
    "telemetries": [
        {"name": "namespace-logs", "accessLogging": [{"providers": [{"name": "envoy"}]}]}
    ],
    "authorizationPolicies": [
        {
            "name": "allow-monitoring",
            "action": "ALLOW",
            "rules": [{"from": [{"source": {"namespaces": ["monitoring"]}}]}],
        }
    ],
    "gateways": [
        {
            "name": "partner",
            "servers": [
                {
                    "port": {"number": 443, "name": "https-mtls", "protocol": "HTTPS"},
                    "hosts": ["partner.shop.example.com"],
                    "tls": {"mode": "MUTUAL", "credentialName": "partner-mtls"},
                },
                {
                    "port": {"number": 443, "name": "tls-pass", "protocol": "TLS"},
                    "hosts": ["legacy.shop.example.com"],
                    "tls": {"mode": "PASSTHROUGH"},
                },
            ],
        }
    ],
    "virtualServices": [
        {
            "name": "partner",
            "hosts": ["partner.shop.example.com"],
            "gateways": ["partner"],
            "http": [{"route": [{"destination": {"host": "reviews"}}]}],
        }
    ],
    "extensions": [
        {
            "apiVersion": "extensions.istio.io/v1alpha1",
            "kind": "WasmPlugin",
            "name": "basic-auth",
            "spec": {"url": "oci://ghcr.io/example/basic-auth:1.0", "phase": "AUTHN"},
        }
    ],
}

EXTERNAL = {
    "name": "ledger",
    "host": "ledger.internal.example.com",
    "ports": [
        {"number": 443, "name": "https", "protocol": "HTTPS"},
        {"number": 80, "name": "http", "protocol": "HTTP"},
    ],
    "addresses": ["10.1.2.3/32"],
    "resolution": "STATIC",
    "endpoints": [{"address": "10.1.2.3"}],
    "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "SIMPLE"}}]},
}


def _data() -> dict[str, Any]:
    data = sample("dev")
    for svc in data["services"]:
        for key, value in copy.deepcopy(FRAGMENTS.get(svc["name"], {})).items():
            if value is None:
                svc.pop(key, None)
            else:
                svc[key] = value
    data |= copy.deepcopy(TOP)
    data["externalServices"].append(copy.deepcopy(EXTERNAL))
    data["experiments"] = []
    data["ingress"]["servers"] = [
        {
            "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
            "hosts": ["dev.shop.example.com"],
            "tls": {"mode": "SIMPLE", "credentialName": "dev-shop-tls"},
        },
        {
            "port": {"number": 443, "name": "https-b", "protocol": "HTTPS"},
            "hosts": ["b.shop.example.com"],
            "tls": {"mode": "SIMPLE", "credentialName": "b-shop-tls"},
        },
    ]
    del data["ingress"]["tlsSecret"]
    data["ingress"]["hosts"] = ["dev.shop.example.com", "b.shop.example.com"]
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
        if m.obj["kind"] == kind and m.obj["metadata"]["name"] == name
    ]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} found"
    return hits[0]


def test_http_routes_are_rendered_as_written(rendered: synth.Rendered) -> None:
    spec = _object(rendered, "VirtualService", "reviews")["spec"]
    assert spec["hosts"] == ["reviews.shop.svc.cluster.local"]
    assert spec["http"] == FRAGMENTS["reviews"]["http"]


def test_tcp_and_tls_routes_and_several_ports(rendered: synth.Rendered) -> None:
    spec = _object(rendered, "VirtualService", "cart")["spec"]
    assert spec["tcp"] == FRAGMENTS["cart"]["tcp"] and spec["tls"] == FRAGMENTS["cart"]["tls"]
    assert "http" not in spec
    ports = _object(rendered, "Service", "cart")["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in ports] == [
        ("tcp-redis", 6379, 6379),
        ("tls-cache", 6380, 7380),
    ]
    container = _object(rendered, "Deployment", "cart-v1")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert [p["containerPort"] for p in container["ports"]] == [6379, 7380]
    assert container["readinessProbe"]["tcpSocket"] == {"port": "tcp-redis"}


def test_traffic_policy_replaces_the_profile_and_subsets_keep_their_own(
    rendered: synth.Rendered,
) -> None:
    spec = _object(rendered, "DestinationRule", "reviews")["spec"]
    assert spec["trafficPolicy"] == FRAGMENTS["reviews"]["trafficPolicy"]
    assert spec["subsets"] == [
        {
            "name": "v1",
            "labels": {"version": "v1"},
            "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}},
        },
        {"name": "v2", "labels": {"version": "v2"}},
    ]


def test_service_policies_select_the_service_unless_they_select(rendered: synth.Rendered) -> None:
    for entry in FRAGMENTS["reviews"]["authorizationPolicies"]:
        spec = _object(rendered, "AuthorizationPolicy", entry["name"])["spec"]
        assert spec == {
            **{k: v for k, v in entry.items() if k != "name"},
            "selector": {"matchLabels": {"app": "reviews"}},
        }
    peer = _object(rendered, "PeerAuthentication", "reviews")["spec"]
    assert peer["portLevelMtls"] == {"9090": {"mode": "PERMISSIVE"}} and peer["selector"][
        "matchLabels"
    ] == {"app": "reviews"}
    assert _object(rendered, "RequestAuthentication", "reviews-jwt")["spec"]["selector"] == {
        "matchLabels": {"app": "reviews"}
    }
    assert _object(rendered, "Telemetry", "reviews")["spec"]["tracing"] == [
        {"randomSamplingPercentage": 50.0}
    ]


def test_namespace_objects_are_namespace_wide(rendered: synth.Rendered) -> None:
    telemetry = _object(rendered, "Telemetry", "namespace-logs")
    assert "selector" not in telemetry["spec"] and telemetry["metadata"]["namespace"] == "shop"
    assert "selector" not in _object(rendered, "AuthorizationPolicy", "allow-monitoring")["spec"]
    gateway = _object(rendered, "Gateway", "partner")["spec"]
    assert gateway["selector"] == {"istio": "ingressgateway"}
    assert [s["tls"]["mode"] for s in gateway["servers"]] == ["MUTUAL", "PASSTHROUGH"]
    assert _object(rendered, "VirtualService", "partner")["spec"]["gateways"] == ["partner"]


def test_ingress_servers_carry_several_certificates(rendered: synth.Rendered) -> None:
    servers = _object(rendered, "Gateway", "ingress")["spec"]["servers"]
    assert [s["tls"]["credentialName"] for s in servers] == ["dev-shop-tls", "b-shop-tls"]


def test_external_service_fields_and_tls_origination(rendered: synth.Rendered) -> None:
    entry = _object(rendered, "ServiceEntry", "ledger")["spec"]
    assert entry["resolution"] == "STATIC" and entry["endpoints"] == [{"address": "10.1.2.3"}]
    assert entry["addresses"] == ["10.1.2.3/32"] and len(entry["ports"]) == 2
    rule = _object(rendered, "DestinationRule", "ledger")["spec"]
    assert rule == {
        "host": "ledger.internal.example.com",
        "trafficPolicy": EXTERNAL["trafficPolicy"],
    }


def test_extensions_are_labelled_attached_and_admitted(rendered: synth.Rendered) -> None:
    lua = _object(rendered, "EnvoyFilter", "reviews-lua")
    assert lua["spec"]["workloadSelector"] == {"labels": {"app": "reviews"}}
    assert lua["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshops"
    wasm = _object(rendered, "WasmPlugin", "basic-auth")
    assert "selector" not in wasm["spec"] and wasm["metadata"]["namespace"] == "shop"
    project = _object(
        rendered,
        "AppProject",
        next(
            m.obj["metadata"]["name"] for m in rendered.manifests if m.obj["kind"] == "AppProject"
        ),
    )
    allowed = {k["kind"] for k in project["spec"]["namespaceResourceWhitelist"]}
    assert {"EnvoyFilter", "WasmPlugin"} <= allowed
    role = next(
        m.obj
        for m in rendered.manifests
        if m.obj["kind"] == "Role" and m.obj["metadata"]["namespace"] == "shop"
    )
    assert any("envoyfilters" in r["resources"] for r in role["rules"])


@pytest.mark.parametrize(
    ("pointer", "field"),
    [
        (
            "/spec/http/0/match/0/headers/end-user/exact",
            "services[2].http[0].match[0].headers.end-user.exact",
        ),
        ("/spec/http/0/mirrorPercentage/value", "services[2].http[0].mirrorPercentage.value"),
    ],
)
def test_new_fields_name_their_source(
    rendered: synth.Rendered, text: str, pointer: str, field: str
) -> None:
    (data,) = rendered.side_files.values()
    found = provenance.Provenance.from_bytes(data, text)
    ref = ObjectRef("networking.istio.io/v1", "VirtualService", "shop", "reviews")
    origin = found.source_of(ref, pointer)
    assert isinstance(origin, provenance.EnvField) and origin.field == field and origin.exact
    assert origin.line is not None and text.splitlines()[origin.line - 1].strip().startswith(
        field.split(".")[-1]
    )


IDENTITIES = frozenset({"name", "apiVersion", "kind"})
"""Entry fields that name an object or a subset (its identity, not a value of it): drift
compares objects by identity, so these have no source to adopt."""


def _leaves(data: Any, path: source.FieldPath) -> Any:
    """Every scalar of `data`, by its field path (a list or map holds no value itself)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _leaves(value, (*path, i))
    else:
        yield path


def test_every_value_written_in_istios_terms_reports_an_exact_source(
    rendered: synth.Rendered, text: str
) -> None:
    """Each scalar of the typed sections (a service's routes, traffic policy, policies,
    extensions; the top level's; external services'; ingress servers) is some rendered
    value's exact source, found on its line: drift names it, propose can write it back."""
    data = _data()
    written = [
        leaf
        for i, svc in enumerate(data["services"])
        for key in set(svc) & {*FRAGMENTS["reviews"], *FRAGMENTS["cart"]}
        for leaf in _leaves(svc[key], ("services", i, key))
    ]
    written += [leaf for key in TOP for leaf in _leaves(data[key], (key,))]
    written += list(_leaves(data["externalServices"], ("externalServices",)))
    written += list(_leaves(data["ingress"]["servers"], ("ingress", "servers")))
    (side,) = rendered.side_files.values()
    found = provenance.Provenance.from_bytes(side, text)
    sources = {
        origin.field: origin
        for obj in found.objects.values()
        for origin in obj.fields.values()
        if isinstance(origin, provenance.EnvField) and origin.exact
    }
    wanted = [
        source.dotted(leaf)
        for leaf in written
        if leaf[-1] not in IDENTITIES and leaf[-1] != "sensitive"  # routing, not a value
    ]
    assert len(wanted) > 100
    assert [field for field in wanted if field not in sources] == []
    lines = text.splitlines()
    for leaf in written:
        origin = sources.get(source.dotted(leaf))
        if origin is not None:  # the value is on the line the source names
            value = str(at_path(data, leaf)).lower()
            assert origin.line and value in lines[origin.line - 1].lower(), origin


HAND_EDITS = [  # kind, name, pointer, live value, the field adopted
    (
        "VirtualService",
        "reviews",
        "/spec/http/0/match/0/headers/end-user/exact",
        "mary",
        "services[2].http[0].match[0].headers.end-user.exact",
    ),
    (
        "DestinationRule",
        "reviews",
        "/spec/trafficPolicy/connectionPool/tcp/maxConnections",
        250,
        "services[2].trafficPolicy.connectionPool.tcp.maxConnections",
    ),
    (
        "AuthorizationPolicy",
        "reviews-deny-admin",
        "/spec/rules/0/to/0/operation/paths/0",
        "/internal/*",
        "services[2].authorizationPolicies[0].rules[0].to[0].operation.paths[0]",
    ),
    (
        "Gateway",
        "partner",
        "/spec/servers/0/tls/credentialName",
        "partner-mtls-2027",
        "gateways[0].servers[0].tls.credentialName",
    ),
    (
        "ServiceEntry",
        "ledger",
        "/spec/endpoints/0/address",
        "10.1.2.4",
        "externalServices[4].endpoints[0].address",
    ),
    (
        "WasmPlugin",
        "basic-auth",
        "/spec/url",
        "oci://ghcr.io/example/basic-auth:1.1",
        "extensions[0].spec.url",
    ),
    (
        "EnvoyFilter",
        "reviews-lua",
        "/spec/configPatches/0/patch/operation",
        "INSERT_AFTER",
        "services[2].extensions[0].spec.configPatches[0].patch.operation",
    ),
]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_hand_edits_of_istio_fields_are_adopted_by_propose(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A committed environment in Istio's terms, its objects edited by hand live: drift
    names each value's line, `propose --adopt` writes each live value into its field,
    verified by rendering again, and drift is then clean."""
    from charts_py import cli, jsonpointer, yamlio

    repo = tmp_path / "repo"
    (repo / "environments").mkdir(parents=True)
    (repo / FILE).write_text(text)
    assert cli.main(["synth", "--environments", str(repo / "environments"),
                     "--dist", str(repo / "dist")]) == 0  # fmt: skip
    _git(repo, "init", "-q", "-b", "main")
    commit = ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q"]
    _git(repo, "add", "-A")
    _git(repo, *commit, "-m", "init")
    objects = []
    for path in sorted((repo / "dist" / "dev" / "dev-1").glob("*/*.yaml")):
        obj = yamlio.load(path.read_bytes())
        for kind, name, pointer, value, _ in HAND_EDITS:
            if (obj["kind"], obj["metadata"]["name"]) == (kind, name):
                *parents, last = jsonpointer.tokens(pointer)
                node = obj
                for token in parents:
                    node = node[int(token)] if isinstance(node, list) else node[token]
                node[int(last) if isinstance(node, list) else last] = value
        objects.append(obj)
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "dump.yaml").write_text(yaml.safe_dump_all(objects))
    args = ["--env", "dev", "--cluster", "dev-1", "--repo", str(repo)]
    args += ["--live-dir", str(tmp_path / "live")]
    capsys.readouterr()
    assert cli.main(["propose", *args, "--adopt", "--format", "json"]) == 0
    proposal = yaml.safe_load(capsys.readouterr().out)
    assert proposal["cannotAdopt"] == []
    adopted = {(a["kind"], a["name"], a["path"]): a for a in proposal["adopted"]}
    lines = text.splitlines()
    for kind, name, pointer, value, field in HAND_EDITS:
        found = adopted[(kind, name, pointer)]
        assert (found["field"], found["value"]) == (field, value)
        line = found["source"]["line"]
        assert str(found["from"]) in lines[line - 1], (field, lines[line - 1])
    _git(repo, *commit, "-am", "adopt")
    assert cli.main(["drift", *args]) == 0, capsys.readouterr().out


def _error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        environment.load_text(yaml.safe_dump(data, sort_keys=False), "dev", FILE)
    return caught.value


def _service(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["services"] if s["name"] == name)
    return found


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            lambda d: _service(d, "reviews")["http"][2].update(rout=[]),
            "services[2].http[2].rout",
            "unknown field",
        ),
        (
            lambda d: _service(d, "reviews")["http"][0]["match"][0].update(port="8080"),
            "services[2].http[0].match[0].port",
            "valid integer",
        ),
        (
            lambda d: _service(d, "reviews")["http"][0]["match"][0]["uri"].update(exact="/x"),
            "services[2].http[0].match[0].uri",
            "set only one of exact, prefix, regex",
        ),
        (
            lambda d: _service(d, "reviews")["authorizationPolicies"][0].update(action="ALOW"),
            "services[2].authorizationPolicies[0].action",
            "'ALLOW', 'DENY', 'AUDIT' or 'CUSTOM'",
        ),
        (
            lambda d: _service(d, "reviews")["versions"][1].update(weight=50),
            "services[2].versions",
            "weights route only without http/tcp/tls routes",
        ),
        (
            lambda d: _service(d, "reviews").update(timeout="2s"),
            "services[2].timeout",
            "write timeout in the routes",
        ),
        (
            lambda d: _service(d, "reviews")["authorizationPolicies"][1].update(
                name="reviews-deny-admin"
            ),
            "services[2].authorizationPolicies[1].name",
            "duplicate AuthorizationPolicy 'reviews-deny-admin'",
        ),
        (
            lambda d: _service(d, "reviews")["extensions"][0]["spec"]["configPatches"][0].update(
                applyTo="HTTP_FILTR"
            ),
            "services[2].extensions[0].spec.configPatches[0].applyTo",
            "HTTP_FILTR",
        ),
        (
            lambda d: d["extensions"][0].update(kind="Frobnicator"),
            "extensions[0].kind",
            "meshops does not emit",
        ),
        (
            lambda d: _service(d, "cart").update(port=9000),
            "services[4].port",
            "with ports, port is not used",
        ),
        (
            lambda d: d["externalServices"][-1].update(port=443),
            "externalServices[4]",
            "set port and protocol, or ports",
        ),
    ],
)
def test_bad_input_names_file_field_and_line(change: Any, field: str, reason: str) -> None:
    data = _data()
    change(data)
    error = _error(data)
    assert error.file == FILE and error.field == field and reason in error.reason, str(error)
    assert error.line is not None


def test_generated_types_are_current() -> None:
    script = REPO / "scripts" / "gen_istio_types.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_generated_types_accept_istios_samples() -> None:
    """Every Istio object of the kinds typed, in Istio's samples, validates as its spec."""
    from charts_py.config import istio_api

    checked = 0
    for path in sorted((REPO / "tests" / "testdata" / "istio" / "samples").rglob("*.yaml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError:
            continue  # Helm templates, not manifests
        for doc in docs:
            model = (
                getattr(istio_api, f"{doc.get('kind')}Spec", None)
                if isinstance(doc, dict)
                else None
            )
            if model is not None and "istio.io" in str(doc.get("apiVersion")):
                model.model_validate(doc.get("spec") or {})
                checked += 1
    assert checked > 50


def test_field_path_of_a_map_key_round_trips() -> None:
    path = ("services", 2, "http", 0, "match", 0, "headers", "end-user", "exact")
    assert source.field_path(source.dotted(path)) == path


def test_generated_docs_list_extensions_as_hand_written(text: str) -> None:
    from charts_py.docs import environment as docs

    page = docs.render(environment.load_text(text, "dev", FILE), FILE).decode()
    section = page[page.index("## Hand-written objects (extensions)") :]
    assert "EnvoyFilter/reviews-lua" in section and "service reviews" in section
    assert "WasmPlugin/basic-auth" in section and "namespace" in section
    assert "routes as written: http" in page


@pytest.mark.parametrize("case", ["features", "bookinfo-ratings-db", "microservices-demo"])
def test_every_recorded_path_resolves_to_the_rendered_value(
    tmp_path: Path, text: str, case: str
) -> None:
    """Provenance of every new field, exact: each recorded path, read in the environment
    file, is the rendered value (tests/unit/test_provenance_paths.py's check)."""
    from tests.unit import test_provenance_paths as paths

    envs = tmp_path / "envs"
    envs.mkdir()
    if case == "features":
        (envs / "dev.yaml").write_text(text)
    else:
        shutil.copy(REPO / "tests" / "testdata" / "expressed" / f"{case}.yaml", envs)
    paths.synth(envs, tmp_path / "dist")
    checked = paths.Checked()
    paths.check_side_files(envs, tmp_path / "dist", checked)
    assert checked.fields > 30


def test_no_istio_field_is_named_like_the_views_own_attributes() -> None:
    from charts_py.config import istio_api, istio_objects, view

    own = {name for name in dir(view.View) if not name.startswith("_")} | set(view.View.__slots__)
    for module in (istio_api, istio_objects):
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
                assert not own & set(cls.model_fields), cls.__name__


def test_a_teams_extension_is_admitted_by_its_project_and_read_by_its_role(
    tmp_path: Path,
) -> None:
    """A team's service with an EnvoyFilter: in the team's namespace, selecting its pods,
    the team's AppProject admits the kind and the drift Role of that namespace reads it;
    a team's error names the team's file."""
    from tests.unit.test_teams import load, service, team_env

    lua = FRAGMENTS["reviews"]["extensions"][0]
    file: dict[str, Any] = {
        "namespaces": [{"name": "payments", "services": [service("fraud", extensions=[lua])]}]
    }
    envs = team_env(tmp_path, payments={"namespaces": ["payments"], "file": file})
    env = load(envs)
    manifests = synth.manifests([env], [env])
    lua_obj = next(m.obj for m in manifests if m.obj["kind"] == "EnvoyFilter")
    assert lua_obj["metadata"]["namespace"] == "payments"
    assert lua_obj["spec"]["workloadSelector"] == {"labels": {"app": "fraud"}}
    project = next(
        m.obj
        for m in manifests
        if m.obj["kind"] == "AppProject" and m.obj["metadata"]["name"] == "meshops-payments"
    )
    assert "EnvoyFilter" in {k["kind"] for k in project["spec"]["namespaceResourceWhitelist"]}
    role = next(
        m.obj
        for m in manifests
        if m.obj["kind"] == "Role" and m.obj["metadata"]["namespace"] == "payments"
    )
    assert any("envoyfilters" in r["resources"] for r in role["rules"])
    bad = copy.deepcopy(file)
    bad["namespaces"][0]["services"][0]["extensions"][0]["spec"]["configPatches"][0]["applyTo"] = (
        "NOPE"
    )
    (envs / "prod" / "payments.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as caught:
        load(envs)
    assert caught.value.file.endswith("payments.yaml")
    assert caught.value.field == (
        "namespaces[0].services[0].extensions[0].spec.configPatches[0].applyTo"
    )
