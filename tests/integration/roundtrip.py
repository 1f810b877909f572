"""Public samples installed as their READMEs do, and what Argo CD's first sync of an imported
environment would do to them.

Each `Sample` is a family of variants (bookinfo's networking tasks, its Gateway API routes,
httpbin installed by Helm...), each variant installed into a namespace of its own with the
real kubectl (`kubectl apply -f`, client-side, as the READMEs say) or the real Helm. The
first sync is proven on the server: every dist object is server-side applied as
`argocd-controller` with a dry-run and compared with what the cluster holds.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charts_py import apply, contract, kubeapi
from charts_py.importer import verify
from charts_py.objectref import Key, ObjectRef, group_of
from tests import tools
from tests.conftest import REPO

SAMPLES = REPO / "tests/testdata/istio/samples"
BOOKINFO = SAMPLES / "bookinfo"
DEMO = REPO / "tests/testdata/microservices-demo"

TRAFFIC_OR_SECURITY = frozenset(
    {
        ("security.istio.io", "AuthorizationPolicy"),
        ("security.istio.io", "PeerAuthentication"),
        ("security.istio.io", "RequestAuthentication"),
        ("networking.istio.io", "Sidecar"),
        ("networking.istio.io", "VirtualService"),
        ("networking.istio.io", "DestinationRule"),
        ("networking.istio.io", "EnvoyFilter"),
        ("extensions.istio.io", "WasmPlugin"),
    }
)
"""Kinds a first sync must not create: each changes how traffic flows or who may call whom
(the issue names the first five; the last three change traffic as surely)."""


@dataclass(frozen=True)
class Variant:
    """One installation: `files` applied in order (a folder as `kubectl apply -f DIR`), or,
    with `helm`, installed as one Helm release of a chart holding them."""

    name: str
    files: tuple[Path, ...]
    helm: bool = False


@dataclass(frozen=True)
class Sample:
    name: str
    variants: tuple[Variant, ...]


def _bookinfo_networking() -> Sample:
    """Bookinfo as the Istio tasks set it up (all traffic to v1), then each task's change."""
    net = BOOKINFO / "networking"
    base = (
        BOOKINFO / "platform/kube/bookinfo.yaml",
        net / "bookinfo-gateway.yaml",
        net / "destination-rule-all.yaml",
        net / "virtual-service-all-v1.yaml",
    )
    changes = sorted(
        f
        for f in net.glob("*.yaml")
        if f not in base and f.name != "certmanager-gateway.yaml"  # istio-system, cert-manager
    )
    variants = [Variant("all-v1", base)]
    variants += [Variant(f.stem, (*base, f)) for f in changes]
    return Sample("bookinfo", tuple(variants))


def _bookinfo_gateway_api() -> Sample:
    routes = BOOKINFO / "gateway-api"
    base = (
        BOOKINFO / "platform/kube/bookinfo.yaml",
        BOOKINFO / "platform/kube/bookinfo-versions.yaml",
        routes / "bookinfo-gateway.yaml",
    )
    variants = [Variant(f.stem, (*base, f)) for f in sorted(routes.glob("route-*.yaml"))]
    return Sample("bookinfo-gateway-api", tuple(variants))


HTTPBIN = SAMPLES / "httpbin"
HELLOWORLD = SAMPLES / "helloworld"
TCP_ECHO = SAMPLES / "tcp-echo"

SAMPLE_SET: tuple[Sample, ...] = (
    _bookinfo_networking(),
    _bookinfo_gateway_api(),
    Sample(
        "httpbin",
        (
            Variant("gateway", (HTTPBIN / "httpbin.yaml", HTTPBIN / "httpbin-gateway.yaml")),
            Variant(
                "gateway-api",
                (HTTPBIN / "httpbin.yaml", HTTPBIN / "gateway-api/httpbin-gateway.yaml"),
            ),
            Variant(
                "helm", (HTTPBIN / "httpbin.yaml", HTTPBIN / "httpbin-gateway.yaml"), helm=True
            ),
        ),
    ),
    Sample(
        "helloworld",
        (
            Variant(
                "gateway", (HELLOWORLD / "helloworld.yaml", HELLOWORLD / "helloworld-gateway.yaml")
            ),
            Variant(
                "gateway-api",
                (
                    HELLOWORLD / "helloworld.yaml",
                    HELLOWORLD / "gateway-api/helloworld-gateway.yaml",
                    HELLOWORLD / "gateway-api/helloworld-versions.yaml",
                    HELLOWORLD / "gateway-api/helloworld-route.yaml",
                ),
            ),
        ),
    ),
    Sample(
        "tcp-echo",
        (
            Variant(
                "all-v1", (TCP_ECHO / "tcp-echo-services.yaml", TCP_ECHO / "tcp-echo-all-v1.yaml")
            ),
            Variant(
                "20-v2",
                (
                    TCP_ECHO / "tcp-echo-services.yaml",
                    TCP_ECHO / "tcp-echo-all-v1.yaml",
                    TCP_ECHO / "tcp-echo-20-v2.yaml",
                ),
            ),
            Variant(
                "gateway-api-all-v1",
                (
                    TCP_ECHO / "tcp-echo-services.yaml",
                    TCP_ECHO / "gateway-api/tcp-echo-all-v1.yaml",
                ),
            ),
            Variant(
                "gateway-api-20-v2",
                (
                    TCP_ECHO / "tcp-echo-services.yaml",
                    TCP_ECHO / "gateway-api/tcp-echo-all-v1.yaml",
                    TCP_ECHO / "gateway-api/tcp-echo-20-v2.yaml",
                ),
            ),
        ),
    ),
    Sample(
        "microservices-demo",
        (Variant("istio", (DEMO / "release/kubernetes-manifests.yaml", DEMO / "istio-manifests")),),
    ),
)


GCP = REPO / "tests/testdata/GoogleCloudPlatform/istio-samples"
KIALI = REPO / "tests/testdata/kiali/demos/electronic-shop"
TUTORIAL = REPO / "tests/testdata/redhat-scholars/istio-tutorial"
TUTORIAL_APP = (
    *(
        TUTORIAL / service / "kubernetes" / file
        for service in ("customer", "preference", "recommendation")
        for file in ("Deployment.yml", "Service.yml")
    ),
    TUTORIAL / "recommendation/kubernetes/Deployment-v2.yml",
    TUTORIAL / "customer/kubernetes/Gateway.yml",
)


def _tutorial(*steps: str) -> tuple[Path, ...]:
    """istio-tutorial's app (customer -> preference -> recommendation v1 and v2, behind its
    Gateway), then the istiofiles of one of its chapters, in the order it applies them."""
    return (*TUTORIAL_APP, *(TUTORIAL / "istiofiles" / step for step in steps))


ISTIO_IO_TASKS = REPO / "tests/testdata/istio.io/tasks"
ISTIO_IO_VARIANTS = (
    "authz-http",
    "authz-jwt",
    "authz-dry-run",
    "authn-policy-namespace",
    "authn-policy-workload-port",
    "authn-policy-precedence",
    "authn-policy-enduser",
    "circuit-breaking",
    "egress-gateway-http",
    "egress-gateway-https",
    "egress-gateway-http-gateway-api",
    "egress-gateway-https-gateway-api",
    "telemetry-access-logging",
)
"""istio.io's tasks, each step with httpbin (Istio's sample) as the task installs it."""

CORPORA: tuple[Sample, ...] = (
    Sample(
        "istio.io-tasks",
        tuple(
            Variant(step, (HTTPBIN / "httpbin.yaml", ISTIO_IO_TASKS / f"{step}.yaml"))
            for step in ISTIO_IO_VARIANTS
        ),
    ),
    Sample(
        "gcp-istio-samples",
        (
            *(
                Variant(
                    f"dual-control-plane-{cluster}",
                    tuple(
                        GCP / "multicluster-gke/dual-control-plane" / cluster / f
                        for f in (
                            "deployments.yaml",
                            "services-local.yaml",
                            "istio-defaults.yaml",
                            "service-entries.yaml",
                        )
                    ),
                )
                for cluster in ("cluster1", "cluster2")
            ),
            Variant(
                "zone-printer",
                tuple(
                    GCP / "multicluster-ingress/zone_printer" / f
                    for f in (  # its Deployment is apps/v1beta1, which no server serves now
                        "service.yaml",
                        "gateway.yaml",
                        "virtualservice.yaml",
                    )
                ),
            ),
            Variant(
                "canary",
                (
                    DEMO / "release/kubernetes-manifests.yaml",
                    GCP / "istio-canary-gke/canary/destinationrule.yaml",
                    GCP / "istio-canary-gke/canary/vs-split-traffic.yaml",
                ),
            ),
            Variant(
                "security-intro",
                (
                    DEMO / "release/kubernetes-manifests.yaml",
                    *(
                        GCP / "security-intro/manifests" / f
                        for f in (
                            "mtls-default-ns.yaml",
                            "mtls-frontend.yaml",
                            "authz-frontend.yaml",
                            "jwt-frontend-request.yaml",
                            "jwt-frontend-authz.yaml",
                        )
                    ),
                ),
            ),
        ),
    ),
    Sample(
        "kiali-electronic-shop",
        (
            Variant(
                "egress-gateway",
                (
                    KIALI / "electronic-shop.yaml",
                    KIALI / "bookstore-egress-service-entry.yaml",
                    KIALI / "music-egress-service-entry.yaml",
                ),
            ),
            Variant(
                "service-entries",
                (
                    KIALI / "electronic-shop.yaml",
                    KIALI / "bookstore-service-entry.yaml",
                    KIALI / "games-service-entry.yaml",
                ),
            ),
        ),
    ),
    Sample(
        "istio-tutorial",
        (
            Variant(
                "canary-75-25",
                _tutorial(
                    "destination-rule-recommendation-v1-v2.yml",
                    "virtual-service-recommendation-v1_and_v2_75_25.yml",
                ),
            ),
            Variant(
                "header-routing",
                _tutorial(
                    "destination-rule-recommendation-v1-v2.yml",
                    "virtual-service-safari-recommendation-v2.yml",
                ),
            ),
            Variant(
                "mirroring",
                _tutorial(
                    "destination-rule-recommendation-v1-v2.yml",
                    "virtual-service-recommendation-v1-mirror-v2.yml",
                ),
            ),
            Variant(
                "fault-injection",
                _tutorial(
                    "destination-rule-recommendation-v1-v2.yml",
                    "virtual-service-recommendation-503.yml",
                ),
            ),
            Variant(
                "delay",
                _tutorial(
                    "destination-rule-recommendation.yml",
                    "virtual-service-recommendation-delay.yml",
                ),
            ),
            Variant("retries", _tutorial("virtual-service-recommendation-v2_retry.yml")),
            Variant(
                "circuit-breaker",
                _tutorial("destination-rule-recommendation_cb_policy_pool_ejection.yml"),
            ),
            Variant("egress", _tutorial("service-entry-egress-worldclockapi.yml")),
            Variant(
                "mtls-and-authorization",
                _tutorial(
                    "enable-mtls.yml",
                    "authorization-policy-deny-all.yaml",
                    "authorization-policy-allow-customer.yaml",
                    "authorization-policy-allow-preference.yaml",
                    "authorization-policy-allow-recommendation.yaml",
                ),
            ),
            Variant(
                "end-user-jwt",
                _tutorial("enduser-authentication-jwt.yml", "authorization-policy-jwt.yaml"),
            ),
        ),
    ),
)
"""Istio configuration from other public repositories (each pinned, with its license, in
tests/testdata/<owner>/<repo>/: README.md there), installed as their READMEs do."""


@dataclass(frozen=True)
class Tools:
    """The real kubectl and helm, both pointed at the local control plane."""

    kubectl_bin: Path
    helm_bin: Path
    kubeconfig: str

    def kubectl(self, *args: str) -> str:
        return _run([str(self.kubectl_bin), "--kubeconfig", self.kubeconfig, *args])

    def helm(self, *args: str) -> str:
        return _run([str(self.helm_bin), "--kubeconfig", self.kubeconfig, *args])

    def install(self, variant: Variant, namespace: str, workdir: Path) -> list[Path]:
        """The variant installed in `namespace` as its README (or Helm) does; the files that
        hold what was installed (a Helm release: its `helm template` output)."""
        if not variant.helm:
            files = [_moved(f, namespace, workdir) for f in variant.files]
            for file in files:
                self.kubectl("apply", "-n", namespace, "-f", str(file))
            return files
        chart = chart_of(variant, workdir / f"chart-{variant.name}")
        self.helm("install", variant.name, str(chart), "-n", namespace)
        rendered = workdir / f"{variant.name}-helm-template.yaml"
        rendered.write_text(self.helm("template", variant.name, str(chart), "-n", namespace))
        return [rendered]


def _moved(file: Path, namespace: str, workdir: Path) -> Path:
    """The file as is, or, when its objects name a namespace of their own (a tutorial's
    `namespace: tutorial`), a copy with them moved into `namespace` (`kubectl apply -n`
    refuses the mismatch): each variant keeps a namespace of its own."""
    if file.is_dir():  # `kubectl apply -f DIR`: the samples' folders name no namespace
        return file
    docs = [d for d in yaml.safe_load_all(file.read_text()) if isinstance(d, dict)]
    named = [d for d in docs if d.get("metadata", {}).get("namespace") not in (None, namespace)]
    if not named:
        return file
    for doc in named:
        doc["metadata"]["namespace"] = namespace
    copy = workdir / "moved" / namespace / file.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return copy


def tools_for(kubeconfig: str, kubectl_bin: Path) -> Tools:
    return Tools(kubectl_bin, tools.pinned("helm"), kubeconfig)


def chart_of(variant: Variant, folder: Path) -> Path:
    """A Helm chart whose templates are the variant's files, verbatim."""
    (folder / "templates").mkdir(parents=True)
    chart = {"apiVersion": "v2", "name": variant.name, "version": "0.1.0"}
    (folder / "Chart.yaml").write_text(yaml.safe_dump(chart))
    for file in variant.files:
        shutil.copy(file, folder / "templates" / file.name)
    return folder


def _run(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)}: {done.stderr}")
    return done.stdout


# --- the first sync ------------------------------------------------------------------------


@dataclass
class FirstSync:
    """What a sync of dist would do: objects whose content (anything but metadata and status)
    it changes, with the top-level fields that change; objects it creates."""

    changed: dict[ObjectRef, list[str]] = field(default_factory=dict)
    created: list[ObjectRef] = field(default_factory=list)

    def changed_among(self, keys: set[Key]) -> dict[str, list[str]]:
        """The changes to these objects (the imported ones)."""
        return {str(r): f for r, f in self.changed.items() if r.key in keys}

    def created_traffic_or_security(self) -> list[str]:
        return [str(r) for r in self.created if r.group_kind in TRAFFIC_OR_SECURITY]


def dry_run(kube: kubeapi.Cluster, objects: Sequence[dict[str, Any]]) -> FirstSync:
    """Each object server-side applied as `argocd-controller` with a dry-run, in sync order.
    An object in a namespace the sync would create first cannot be dry-run (the server
    answers NotFound): it is new, and the real sync that follows proves it valid."""
    live = _live(kube, objects)
    namespaces = {k[3] for k in live if k[:2] == ("", "Namespace")}
    outcome = FirstSync()
    for obj in apply.order(objects):
        ref = ObjectRef.of(obj)
        before = live.get(ref.key)
        if before is None:
            outcome.created.append(ref)
            if not ref.namespace or ref.namespace in namespaces:
                kube.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
            continue
        after = kube.apply(obj, field_manager=contract.FIELD_MANAGER, dry_run=True)
        # apiVersion aside: one object, read back at the version of another dist object of
        # its kind (a TLSRoute extension at v1alpha2 beside a typed one at v1).
        fields = sorted((before.keys() | after.keys()) - {"apiVersion", "metadata", "status"})
        moved = [f for f in fields if before.get(f) != after.get(f)]
        if moved:
            outcome.changed[ref] = moved
    return outcome


def _live(kube: kubeapi.Cluster, objects: Sequence[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """What the cluster holds of the objects' kinds, in their namespaces: one LIST each."""
    wanted = {(o["apiVersion"], o["kind"], o["metadata"].get("namespace", "")) for o in objects}
    wanted.add(("v1", "Namespace", ""))
    out: dict[Key, dict[str, Any]] = {}
    for api_version, kind, namespace in sorted(wanted):
        resource = kube.served(api_version, kind)
        for item in kube.list(resource, namespace=namespace or None):
            out[ObjectRef.of(item).key] = item
    return out


def false_exact(
    kube: kubeapi.Cluster, objects: Sequence[dict[str, Any]], report: dict[str, Any]
) -> list[str]:
    """Each object the import report claims `exact` whose rendered spec (in dist), as the
    server makes it (a dry-run create of a copy: its defaults, its pruning), is not the live
    object's under drift's normalisation (Namespaces: their labels), a line each. The claim
    checked against the server, apart from import's own check in memory."""
    rendered = {ObjectRef.of(o).key: o for o in objects}
    wrong = []
    for claim in report["objects"]:
        if claim["status"] != "exact":
            continue
        at = claim["renderedAs"]
        key = (group_of(at["apiVersion"]), at["kind"], at["namespace"] or "", at["name"])
        resource = kube.served(claim["apiVersion"], claim["kind"])
        live = kube.request("GET", resource.path(claim["namespace"], claim["name"]))
        ours = rendered.get(key)
        if ours is None:
            wrong.append(f"{claim['kind']} {claim['namespace']}/{claim['name']}: not in dist")
            continue
        made = _as_server_makes(kube, ours) if claim["kind"] != "Namespace" else ours
        for d in verify.differences_of(live, made):
            name = f"{claim['kind']} {claim['namespace']}/{claim['name']}"
            wrong.append(f"{name}: claimed exact, {d.path}: live {d.source!r}, dist {d.rendered!r}")
    return wrong


def _as_server_makes(kube: kubeapi.Cluster, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the server would store it (a dry-run create of a copy under a
    generated name, beside the real one)."""
    meta = obj["metadata"]
    copy = {
        **obj,
        "metadata": {"generateName": f"{meta['name'][:40]}-", "namespace": meta.get("namespace")},
    }
    resource = kube.served(obj["apiVersion"], obj["kind"])
    made: dict[str, Any] = kube.request(
        "POST", resource.path(meta.get("namespace")), query=[("dryRun", "All")], body=copy
    )
    return made


def dist_objects(folder: Path) -> list[dict[str, Any]]:
    """Every manifest under a dist/<env>/<cluster> folder."""
    return [yaml.safe_load(f.read_text()) for f in sorted(folder.rglob("*.yaml"))]
