"""meshops import's engine: where each source object goes, and that every verdict is what
rendering the written file again gives (docs/import.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py.config import environment
from charts_py.importer import adopt, placement, sources, verify
from charts_py.importer.model import Inexpressible, Status, Verdict, Via

WORKLOAD = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop, annotations: {meta.helm.sh/release-name: shop}}
spec:
  selector: {matchLabels: {app: reviews, version: v1}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec:
      serviceAccountName: shop-reviews
      containers: [{name: reviews, image: example/reviews:1}]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled, kubernetes.io/metadata.name: shop}}
"""

ROUTES = """
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews-route, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http:
    - match: [{headers: {end-user: {exact: jason}}}]
      route: [{destination: {host: reviews.shop.svc.cluster.local, subset: v1}}]
      timeout: 3s
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
  subsets:
    - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shop, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
"""


def _objects(*texts: str) -> list[dict[str, Any]]:
    return [d for text in texts for d in yaml.safe_load_all(text) if d]


def _target(
    profile: str = "none", inexpressible: Inexpressible = Inexpressible.EXTENSION
) -> placement.Target:
    return placement.Target(
        env="adopted",
        cluster="adopted-1",
        profile=profile,
        namespace="shop",
        argocd={"repoURL": "https://git.example.com/platform/mesh.git"},
        inexpressible=inexpressible,
    )


def _adopt(*texts: str, **target: Any) -> adopt.Adopted:
    return adopt.adopt(_objects(*texts), _target(**target), "environments/adopted.yaml")


def _rendered(text: str) -> verify.Rendered:
    """The file rendered again, as import verifies it."""
    with verify.render(text, "adopted", "environments/adopted.yaml") as rendered:
        return rendered


def _verdict(adopted: adopt.Adopted, kind: str, name: str) -> Verdict:
    return next(v for v in adopted.report.verdicts if (v.ref.kind, v.ref.name) == (kind, name))


def test_a_service_routes_and_subsets_become_its_own_fields() -> None:
    adopted = _adopt(WORKLOAD, ROUTES)
    data = yaml.safe_load(adopted.text)
    [service] = data["services"]
    assert service["workload"] == {
        "deployedBy": "helm release shop",
        "selector": {"app": "reviews"},
        "serviceAccount": "shop-reviews",
        "service": "theirs",
    }
    assert service["names"] == {"virtualService": "reviews-route"}
    assert service["versions"] == [{"name": "v1", "labels": {"version": "v1"}}]
    assert service["trafficPolicy"] == {"loadBalancer": {"simple": "RANDOM"}}
    assert service["http"][0]["timeout"] == "3s"
    assert data["namespaceLabels"] == {"shop": {"istio-injection": "enabled"}}
    assert data["mesh"] == {"managed": False}
    for kind, name in [
        ("VirtualService", "reviews-route"),
        ("DestinationRule", "reviews"),
        ("Gateway", "shop"),
        ("AuthorizationPolicy", "deny-admin"),
        ("Namespace", "shop"),
    ]:
        verdict = _verdict(adopted, kind, name)
        assert (verdict.status, verdict.via) == (Status.EXACT, Via.MODEL), verdict


def test_the_workload_and_its_service_stay_with_their_owner() -> None:
    adopted = _adopt(WORKLOAD)
    for kind, name in [("Service", "reviews"), ("Deployment", "reviews-v1")]:
        verdict = _verdict(adopted, kind, name)
        assert verdict.status is Status.NOT_EXPRESSIBLE
        assert verdict.via is None and verdict.rendered_as is None
        assert "left to its owner" in (verdict.reason or "")


def test_exact_claims_hold_when_the_file_is_rendered_again() -> None:
    """Each `exact` verdict, checked independently of the engine: the written file,
    loaded and rendered, holds an object whose spec is the source's."""
    adopted = _adopt(WORKLOAD, ROUTES)
    rendered = _rendered(adopted.text)
    sources = {(o["kind"], o["metadata"]["name"]): o for o in _objects(WORKLOAD, ROUTES)}
    exact = [v for v in adopted.report.verdicts if v.status is Status.EXACT]
    assert len(exact) == 5
    for verdict in exact:
        assert verdict.rendered_as is not None
        ours = rendered.objects[verdict.rendered_as.key]
        theirs = sources[(verdict.ref.kind, verdict.ref.name)]
        if verdict.ref.kind == "Namespace":
            assert ours["metadata"]["labels"]["istio-injection"] == "enabled"
        else:
            assert ours["spec"] == theirs["spec"]


INEXPRESSIBLE = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-route, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http:
    - route: [{destination: {host: reviews.shop.svc.cluster.local}}]
      frobnicate: 1
"""


@pytest.mark.parametrize("inexpressible", list(Inexpressible))
def test_one_inexpressible_field_is_never_exact(inexpressible: Inexpressible) -> None:
    """A field Istio's schema does not have (the API server would drop it): neither a typed
    field nor an extension may say it, so the object is named, not rendered."""
    adopted = _adopt(WORKLOAD, INEXPRESSIBLE, inexpressible=inexpressible)
    verdict = _verdict(adopted, "VirtualService", "reviews-route")
    assert verdict.status is Status.NOT_EXPRESSIBLE
    assert (verdict.via, verdict.rendered_as) == (None, None)
    assert "frobnicate" in (verdict.reason or "")
    data = yaml.safe_load(adopted.text)
    assert data["services"][0]["http"] == [] and "extensions" not in data


def test_a_rendering_that_differs_moves_the_object_down_and_says_why() -> None:
    """A Gateway without a selector: the typed field would add the ingress gateway's, so it
    is carried as an extension, with the reason."""
    gateway = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: open, namespace: shop}
spec:
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
"""
    verdict = _verdict(_adopt(gateway), "Gateway", "open")
    assert (verdict.status, verdict.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert "selector" in (verdict.reason or "")
    assert verdict.differences == ()  # the extension renders it as written
    unmanaged = _adopt(gateway, inexpressible=Inexpressible.OUT_OF_BAND)
    verdict = _verdict(unmanaged, "Gateway", "open")
    assert (verdict.status, verdict.via, verdict.rendered_as) == (
        Status.NOT_EXPRESSIBLE,
        None,
        None,
    )
    assert "extensions" not in yaml.safe_load(unmanaged.text)


def test_a_kind_meshops_never_heard_of_is_an_unchecked_extension() -> None:
    custom = """
apiVersion: rollouts.example.com/v1
kind: CanaryPlan
metadata: {name: reviews, namespace: shop}
spec: {steps: [{weight: 10}]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: canaryplen.rollouts.example.com}
spec:
  group: rollouts.example.com
  names: {kind: CanaryPlan, plural: canaryplen}
  scope: Namespaced
"""
    adopted = _adopt(custom)
    verdict = _verdict(adopted, "CanaryPlan", "reviews")
    assert (verdict.status, verdict.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert verdict.differences == ()
    [extension] = yaml.safe_load(adopted.text)["extensions"]
    assert extension["plural"] == "canaryplen"
    rendered = _rendered(adopted.text)
    role = rendered.objects[("rbac.authorization.k8s.io", "Role", "shop", "meshops-drift")]
    assert {"apiGroups": ["rollouts.example.com"], "resources": ["canaryplen"]}.items() <= {
        **next(r for r in role["rules"] if r["apiGroups"] == ["rollouts.example.com"])
    }.items()
    project = rendered.objects[("argoproj.io", "AppProject", "argocd", "meshops")]
    allowed = project["spec"]["namespaceResourceWhitelist"]
    assert {"group": "rollouts.example.com", "kind": "CanaryPlan"} in allowed


def test_a_lower_case_kind_is_an_extension_not_a_crash() -> None:
    """Kubernetes allows a custom kind that starts lower-case (Mixer's `config.istio.io`
    `rule`, `handler`, `instance`, in redhat-scholars/istio-tutorial): import carried it as
    an extension; the environment file it wrote then failed to load (exit 2)."""
    mixer = """
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata: {name: denycustomer, namespace: shop}
spec:
  match: destination.labels["app"] == "preference" && source.labels["app"] == "customer"
  actions: [{handler: denycustomerhandler, instances: [denycustomerrequests]}]
"""
    adopted = _adopt(mixer)
    verdict = _verdict(adopted, "rule", "denycustomer")
    assert (verdict.status, verdict.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert verdict.differences == ()
    [extension] = yaml.safe_load(adopted.text)["extensions"]
    assert extension["kind"] == "rule"


def test_a_port_keyed_peer_authentication_from_a_file_is_exact(tmp_path: Path) -> None:
    """The object as a folder gives it (integer key 80, as istio.io's task writes it) is
    exact through `peerAuthentications`, not an extension."""
    file = tmp_path / "peer.yaml"
    file.write_text(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata: {name: httpbin, namespace: shop}\n"
        "spec:\n  selector: {matchLabels: {app: httpbin}}\n  mtls: {mode: STRICT}\n"
        "  portLevelMtls:\n    80:\n      mode: DISABLE\n"
    )
    found = sources.from_dir([file], "shop")
    adopted = adopt.adopt(found.objects, _target(), "environments/adopted.yaml")
    verdict = _verdict(adopted, "PeerAuthentication", "httpbin")
    assert (verdict.status, verdict.via) == (Status.EXACT, Via.MODEL)


def test_a_gateway_api_extension_syncs_in_gateway_apis_wave() -> None:
    """A TLSRoute at v1alpha2 without `hostnames` (istio.io's egress task: its parent is a
    ServiceEntry) is valid there, not at v1, so it is an extension. It synced in the
    extensions' wave -5, before Gateway API's typed objects (wave 0), and since Argo CD
    waits for a TLSRoute's health, synth refused the file (sync-wave-health)."""
    route = """
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: direct-cnn, namespace: shop}
spec:
  parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
  rules: [{backendRefs: [{name: cnn-egress-gateway-istio, port: 443}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: forward-cnn, namespace: shop}
spec:
  parentRefs: [{name: cnn-egress-gateway}]
  hostnames: [edition.cnn.com]
  rules:
    - backendRefs:
        - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 443}
"""
    adopted = _adopt(route)
    direct, forward = (
        _verdict(adopted, "TLSRoute", "direct-cnn"),
        _verdict(adopted, "TLSRoute", "forward-cnn"),
    )
    assert (direct.status, direct.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert "hostnames" in (direct.reason or "")
    assert (forward.status, forward.via) == (Status.EXACT, Via.MODEL)
    assert adopted.report.refusals == ()


def test_an_extension_is_written_at_a_version_whose_schema_says_it() -> None:
    """The same TLSRoute read back from a cluster comes at v1, whose schema requires
    `hostnames`: it was left out of band ("the packaged schema rejects /spec"). The server
    keeps one object for every version, so the extension says it at v1alpha2."""
    route = """
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: direct-cnn, namespace: shop}
spec:
  parentRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]
  rules: [{backendRefs: [{name: cnn-egress-gateway-istio, port: 443}]}]
"""
    adopted = _adopt(route)
    verdict = _verdict(adopted, "TLSRoute", "direct-cnn")
    assert (verdict.status, verdict.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert verdict.differences == ()
    [extension] = yaml.safe_load(adopted.text)["extensions"]
    assert extension["apiVersion"] == "gateway.networking.k8s.io/v1alpha2"


def test_an_annotation_istio_reads_is_never_dropped_under_an_exact_claim() -> None:
    """istio.io's dry-run task: `istio.io/dry-run: "true"` makes a DENY policy log instead
    of deny. The typed field carries no annotations, so the policy was claimed exact while
    git held an enforcing one. It is an extension now, annotation and all; a label or
    annotation outside Istio's domain (Helm's) keeps the typed field."""
    policies = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-path-headers
  namespace: shop
  annotations: {istio.io/dry-run: "true"}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: DENY
  rules: [{to: [{operation: {paths: [/headers]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: charted
  namespace: shop
  labels: {app.kubernetes.io/managed-by: Helm, helm.sh/chart: shop-1.0.0}
spec:
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]}]
"""
    adopted = _adopt(policies)
    dry_run = _verdict(adopted, "AuthorizationPolicy", "deny-path-headers")
    assert (dry_run.status, dry_run.via) == (Status.NOT_EXPRESSIBLE, Via.EXTENSION)
    assert dry_run.differences == ()
    assert "/metadata/annotations/istio.io~1dry-run" in (dry_run.reason or "")
    [extension] = yaml.safe_load(adopted.text)["extensions"]
    assert extension["annotations"] == {"istio.io/dry-run": "true"}
    with verify.render(adopted.text, "adopted", "environments/adopted.yaml") as rendered:
        policy = rendered.objects[
            ("security.istio.io", "AuthorizationPolicy", "shop", "deny-path-headers")
        ]
    assert policy["metadata"]["annotations"]["istio.io/dry-run"] == "true"
    charted = _verdict(adopted, "AuthorizationPolicy", "charted")
    assert (charted.status, charted.via) == (Status.EXACT, Via.MODEL)


def test_adoption_renders_no_control_plane_and_no_mesh_object_of_its_own() -> None:
    adopted = _adopt(WORKLOAD, ROUTES)
    assert adopted.report.findings == ()
    rendered = _rendered(adopted.text)
    kinds = {(k[1], k[2], k[3]) for k in rendered.objects}
    assert ("Namespace", "", "istio-system") not in kinds
    assert ("Namespace", "", "shop") in kinds  # found among the sources, labels kept
    unseen = _rendered(_adopt(ROUTES).text)
    assert not any(kind == "Namespace" and name == "shop" for _, kind, _, name in unseen.objects)
    assert not any(kind == "Application" for kind, _, _ in kinds)
    mesh = {k for k in rendered.objects if k[0].endswith("istio.io")}
    claimed = {v.rendered_as.key for v in adopted.report.verdicts if v.rendered_as}
    assert mesh <= claimed


def test_a_stricter_profile_says_what_it_would_add() -> None:
    adopted = _adopt(WORKLOAD, ROUTES, profile="prod")
    assert "prod would add AuthorizationPolicy allow-nothing in shop" in adopted.report.findings
    assert _verdict(adopted, "DestinationRule", "reviews").status is Status.EXACT


def test_same_sources_same_bytes_whatever_their_order() -> None:
    objects = _objects(WORKLOAD, ROUTES)
    first = adopt.adopt(objects, _target(), "environments/adopted.yaml")
    again = adopt.adopt(list(reversed(objects)), _target(), "environments/adopted.yaml")
    assert first.text == again.text
    assert first.report.to_json() == again.report.to_json()


def test_the_file_is_a_valid_environment_that_reads_like_a_sample() -> None:
    adopted = _adopt(WORKLOAD, ROUTES)
    env = environment.load_text(adopted.text, "adopted", "environments/adopted.yaml")
    assert env.spec.profile == "none" and not env.mesh.managed
    assert "  - {name: v1, labels: {version: v1}}" not in adopted.text  # nested: block style
    assert "labels: {version: v1}" in adopted.text
    assert adopted.text.startswith("# yaml-language-server: $schema=")


def test_what_synth_would_refuse_is_said_before_anyone_runs_it() -> None:
    """Two Gateways serving one host:port on the same gateway pods (a conflict the running
    mesh already has): the file is written as found, and the error synth would stop on is
    printed with the report."""
    twice = "\n---\n".join(
        f"""
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{istio: ingressgateway}}
  servers: [{{port: {{number: 80, name: http, protocol: HTTP}}, hosts: ["*"]}}]
"""
        for ns in ("shop", "blog")
    )
    adopted = _adopt(twice)
    assert [v.status for v in adopted.report.verdicts[:2]] == [Status.EXACT, Status.EXACT]
    assert any("[gateway-host-port]" in refusal for refusal in adopted.report.refusals)
    assert _adopt(ROUTES).report.refusals == ()
