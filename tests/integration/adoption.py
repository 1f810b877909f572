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
