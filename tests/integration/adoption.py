"""Objects with a history, made on a real API server: created by kubectl or Helm, then
adopted by Argo CD (server-side apply as `argocd-controller`, same content as git).

Each case names the objects of the staging sample it uses, the steps that give them their
history, and the verdict drift must reach. The integration tier runs them on the local
control plane; `scripts/record_drift_cases.py` runs the same steps and writes the live
objects to tests/testdata/drift/ for the unit tier, so both tiers judge the same histories.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charts_py import contract, kubeapi

Obj = dict[str, Any]


@dataclass
class Bench:
    """Where a case runs: a server, kubectl for it, and a namespace of its own."""

    kube: kubeapi.Cluster
    kubeconfig: str
    kubectl_bin: Path
    namespace: str

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(self.kubectl_bin), "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args],
            input=stdin,
            text=True,
            capture_output=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
        return done.stdout

    def path(self, obj: Obj) -> str:
        res = self.kube.served(obj["apiVersion"], obj["kind"])
        return res.path(obj["metadata"].get("namespace"), obj["metadata"]["name"])

    def get(self, obj: Obj) -> Obj:
        live: Obj = self.kube.request("GET", self.path(obj))
        return live


Step = Callable[[Bench, list[Obj]], None]


def kubectl_apply(bench: Bench, objects: list[Obj]) -> None:
    bench.kubectl("apply", "-f", "-", stdin=json.dumps(objects[0]))


def kubectl_label(bench: Bench, objects: list[Obj]) -> None:
    obj = objects[0]
    bench.kubectl("label", f"{obj['kind'].lower()}/{obj['metadata']['name']}", "team=x")


def kubectl_create(bench: Bench, objects: list[Obj]) -> None:
    bench.kubectl("create", "-f", "-", stdin=json.dumps(objects[0]))


def helm_install(bench: Bench, objects: list[Obj]) -> None:
    """Helm 3 creates with field manager `helm` (an Update, not an apply)."""
    obj = objects[0]
    res = bench.kube.served(obj["apiVersion"], obj["kind"])
    bench.kube.request(
        "POST", res.path(bench.namespace), query=[("fieldManager", "helm")], body=obj
    )


def argocd_adopts(bench: Bench, objects: list[Obj]) -> None:
    for obj in objects:
        bench.kube.apply(obj, field_manager=contract.FIELD_MANAGER)


def extra_env_var(bench: Bench, objects: list[Obj]) -> None:
    """An out-of-band change a sync keeps: Argo CD calls it Synced, drift must not."""
    name = objects[0]["metadata"]["name"]
    patch = (
        '[{"op":"add","path":"/spec/template/spec/containers/0/env",'
        '"value":[{"name":"DEBUG","value":"1"}]}]'
    )
    bench.kubectl("patch", f"deployment/{name}", "--type=json", "-p", patch)


def hpa_scales(bench: Bench, objects: list[Obj]) -> None:
    """The HPA's controller writes replicas through /scale."""
    bench.kube.request(
        "PATCH",
        bench.path(objects[0]) + "/scale",
        query=[("fieldManager", "kube-controller-manager")],
        body={"spec": {"replicas": 4}},
        content_type="application/merge-patch+json",
    )


EDITED_AND_RESTORED = {
    "GRPCRoute": ("/spec/rules/0/backendRefs/0/weight", 9, 1),
    "TCPRoute": ("/spec/rules/0/backendRefs/0/weight", 9, 1),
    "TLSRoute": ("/spec/rules/0/backendRefs/0/weight", 9, 1),
    "ReferenceGrant": ("/spec/to/0/kind", "Secret", "Service"),
}
"""Per kind: a field of an atomic list, a hand-made value, and git's value as the server holds
it (a backendRef's `weight` is the server's default, 1; git leaves it out)."""


def edited_and_restored(bench: Bench, objects: list[Obj]) -> None:
    """Someone shifted a route by hand and put git's value back (`kubectl patch` twice): the
    patch leaves `kubectl-patch` owning the whole atomic list, whose value is git's with the
    server's defaults. Only the recorded defaults tell drift that is git's."""
    obj = objects[0]
    path, changed, restored = EDITED_AND_RESTORED[obj["kind"]]
    for value in (changed, restored):
        patch = json.dumps([{"op": "replace", "path": path, "value": value}])
        bench.kubectl("patch", f"{obj['kind'].lower()}/{obj['metadata']['name']}",
                      "--type=json", "-p", patch)  # fmt: skip


ENDPOINTS: Obj = {
    "apiVersion": "v1",
    "kind": "Endpoints",
    "metadata": {"name": "legacy-db"},
    "subsets": [{"addresses": [{"ip": "10.0.0.7"}], "ports": [{"name": "pg", "port": 5432}]}],
}
SECRET: Obj = {
    "apiVersion": "v1",
    "kind": "Secret",
    "type": "Opaque",
    "metadata": {"name": "empty-token"},
    "data": {"token": ""},
}

GATEWAY_API = "gateway.networking.k8s.io"
INGRESS = {"name": "ingress", "namespace": "istio-system", "sectionName": "https"}
"""A parentRef as people write it for a Gateway: without `group` and `kind` (defaulted)."""
GRPC_ROUTE: Obj = {
    "apiVersion": f"{GATEWAY_API}/v1",
    "kind": "GRPCRoute",
    "metadata": {"name": "recommendations-grpc"},
    "spec": {
        "parentRefs": [INGRESS],
        "rules": [
            {
                "matches": [
                    {
                        "method": {"service": "shop.Recommendations", "method": "List"},
                        "headers": [{"name": "x-canary", "value": "1"}],
                    }
                ],
                "backendRefs": [{"name": "recommendations-v2", "port": 9090}],
            }
        ],
    },
}
"""Written without the fields the server defaults: parentRef `group`/`kind`, a method's and a
header's match `type`, a backendRef's `group`, `kind` and `weight`."""


def _l4_route(kind: str, name: str, listener: str, backend: str, port: int, **spec: Any) -> Obj:
    """A TCPRoute or TLSRoute on the ingress Gateway's `listener`, as people write one."""
    parent = {"name": "ingress", "namespace": "istio-system", "sectionName": listener}
    return {
        "apiVersion": f"{GATEWAY_API}/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "parentRefs": [parent],
            **spec,
            "rules": [{"backendRefs": [{"name": backend, "port": port}]}],
        },
    }


TCP_ROUTE = _l4_route("TCPRoute", "legacy-db", "pg", "legacy-db", 5432)
TLS_ROUTE = _l4_route(
    "TLSRoute", "payments-passthrough", "tls", "payment", 8443, hostnames=["pay.example.com"]
)  # TLSRoute v1 requires hostnames
REFERENCE_GRANT: Obj = {
    "apiVersion": f"{GATEWAY_API}/v1beta1",
    "kind": "ReferenceGrant",
    "metadata": {"name": "routes-from-istio-system"},
    "spec": {
        "from": [{"group": GATEWAY_API, "kind": "HTTPRoute", "namespace": "istio-system"}],
        "to": [{"group": "", "kind": "Service"}],
    },
}
"""Its schema defaults nothing: recorded as a kind with no defaults, not as an unknown one."""
GATEWAY_API_ROUTES = (GRPC_ROUTE, TCP_ROUTE, TLS_ROUTE, REFERENCE_GRANT)
"""Gateway API kinds meshops does not emit but an adopted mesh holds (docs/drift.md)."""


@dataclass(frozen=True)
class Case:
    """A history and its verdict: `paths` are the JSON Pointers reported (none if in sync)."""

    name: str
    pick: tuple[tuple[str, str], ...]  # (kind, name) from the sample; the first is judged
    steps: tuple[Step, ...]
    status: str
    paths: tuple[str, ...] = ()
    managers: tuple[str, ...] = field(default=())
    inline: tuple[Obj, ...] = ()  # objects meshops does not emit, judged first


CASES = (
    Case("adopted-kubectl-apply-service", (("Service", "cart"),),
         (kubectl_apply, argocd_adopts), "in-sync"),
    Case("adopted-kubectl-create-deployment", (("Deployment", "cart-v1"),),
         (kubectl_create, argocd_adopts), "in-sync"),
    Case("adopted-helm-service", (("Service", "reviews"),),
         (helm_install, argocd_adopts), "in-sync"),
    Case("adopted-deployment-hpa-scaled",
         (("Deployment", "reviews-v1"), ("HorizontalPodAutoscaler", "reviews-v1")),
         (kubectl_create, argocd_adopts, hpa_scales), "in-sync"),
    Case("adopted-deployment-extra-env", (("Deployment", "payment-v1"),),
         (kubectl_create, argocd_adopts, extra_env_var), "modified",
         ("/spec/template/spec/containers/0/env",), ("kubectl-patch",)),
    Case("adopted-service-label-added-not-protocol", (("Service", "cart"),),
         (kubectl_apply, argocd_adopts, kubectl_label), "modified",
         ("/metadata/labels/team",), ("kubectl-label",)),
    Case("endpoints-server-protocol", (), (kubectl_apply, argocd_adopts), "in-sync",
         inline=(ENDPOINTS,)),
    Case("secret-empty-value", (), (argocd_adopts,), "in-sync", inline=(SECRET,)),
    *(Case(f"restored-by-hand-{obj['kind'].lower()}", (),
           (argocd_adopts, edited_and_restored), "in-sync", inline=(obj,))
      for obj in GATEWAY_API_ROUTES),
)  # fmt: skip


def desired_of(case: Case, sample: list[Obj], namespace: str) -> list[Obj]:
    """The case's objects (inline ones, then picks from the sample), moved into `namespace`."""
    picked = [
        next(o for o in sample if o["kind"] == kind and o["metadata"]["name"] == name)
        for kind, name in case.pick
    ]
    out = []
    for obj in (*case.inline, *picked):
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
        out.append(obj)
    return out


def play(case: Case, bench: Bench, objects: list[Obj]) -> list[Obj]:
    """Give the objects their history; return them as the server now holds them."""
    for step in case.steps:
        step(bench, objects)
    return [bench.get(o) for o in objects]
