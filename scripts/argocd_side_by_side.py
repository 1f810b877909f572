#!/usr/bin/env python3
"""Hand edits on an Argo-synced cluster: Argo CD's per-resource status beside meshops drift.

Runs against a running sandbox (`meshops cluster up --argocd`, or the e2e tier's): makes
six edits the way people make them (field managers kubectl-edit, kubectl-patch and
kubectl-scale), asks Argo CD for a hard refresh, and prints a Markdown table of what each
tool says about each edit. Self-heal is switched off in the ApplicationSet template first,
or Argo CD would revert the edits it sees before they can be compared; it is switched back
on at the end (which then heals what Argo CD considers drift).

    scripts/argocd_side_by_side.py --sandbox ~/.local/state/meshops/local-cluster/gitops
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from charts_py import cli, kubeapi
from charts_py.cluster import sandbox

APPSET = ("argoproj.io/v1alpha1", "ApplicationSet")
APP = ("argoproj.io/v1alpha1", "Application")
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
TIMEOUT = 180.0
T = TypeVar("T")

Edit = tuple[str, str, str, str, str, dict[str, Any], str, str]
"""(row label, apiVersion, kind, namespace, name, patch, content type, field manager)."""


def edits() -> list[Edit]:
    """One edit per object, so each object's verdict speaks for one edit."""
    env = {"name": "payment", "env": [{"name": "DEBUG", "value": "1"}]}
    return [
        ("PeerAuthentication mTLS STRICT -> PERMISSIVE", "security.istio.io/v1",
         "PeerAuthentication", "istio-system", "default",
         {"spec": {"mtls": {"mode": "PERMISSIVE"}}}, MERGE, "kubectl-edit"),
        ("Deployment payment-v1: extra env var", "apps/v1", "Deployment", "shop", "payment-v1",
         {"spec": {"template": {"spec": {"containers": [env]}}}}, STRATEGIC, "kubectl-edit"),
        ("Deployment cart-v1: extra label", "apps/v1", "Deployment", "shop", "cart-v1",
         {"metadata": {"labels": {"owner": "hand-edit"}}}, MERGE, "kubectl-patch"),
        ("Service catalog: extra Service port", "v1", "Service", "shop", "catalog",
         {"spec": {"ports": [{"name": "http-debug", "port": 9999}]}}, STRATEGIC, "kubectl-edit"),
        ("VirtualService reviews: extra annotation", "networking.istio.io/v1", "VirtualService",
         "shop", "reviews", {"metadata": {"annotations": {"note": "hand-edit"}}}, MERGE,
         "kubectl-patch"),
        ("Deployment checkout-v1: scaled to 5 (HPA-managed)", "apps/v1", "Deployment", "shop",
         "checkout-v1", {"spec": {"replicas": 5}}, MERGE, "kubectl-scale"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", type=Path, required=True, help="the sandbox state folder")
    parser.add_argument("--cluster", default="prod-east")
    args = parser.parse_args()
    running = sandbox.Sandbox.load(args.sandbox)
    if running is None:
        print(f"{args.sandbox}: no sandbox recorded there", file=sys.stderr)
        return 2
    env = next(p.parent.name for p in Path(running.repo, "dist").glob(f"*/{args.cluster}"))
    hub = kubeapi.Cluster.connect(running.hub_kubeconfig)
    target = kubeapi.Cluster.connect(running.clusters[args.cluster])
    app = f"meshops-{env}-{args.cluster}"
    self_heal(hub, False, app)
    try:
        table = compare(hub, target, running, env, args.cluster, app)
    finally:
        self_heal(hub, True, app)
    print("| hand edit | Argo CD | meshops drift |\n|---|---|---|")
    for row in table:
        print(f"| {' | '.join(row)} |")
    return 0


def compare(
    hub: kubeapi.Cluster,
    target: kubeapi.Cluster,
    running: sandbox.Sandbox,
    env: str,
    cluster: str,
    app: str,
) -> list[tuple[str, str, str]]:
    made = edits()
    for _, api_version, kind, ns, name, patch, content_type, manager in made:
        path = target.resource(api_version, kind).path(ns, name)
        query = [("fieldManager", manager)]
        target.request("PATCH", path, query=query, body=patch, content_type=content_type)
    refresh(hub, app)
    status = wait("Argo CD to reconcile the edits", lambda: reconciled(hub, app))
    verdicts = drift(running, env, cluster)
    table = []
    for label, _, kind, ns, name, *_ in made:
        argo = status.get((kind, ns, name), "not tracked")
        table.append((label, argo, verdicts.get((kind, ns, name), "not checked")))
    return table


def self_heal(hub: kubeapi.Cluster, on: bool, app: str) -> None:
    """Set selfHeal in every ApplicationSet's template and wait until `app` has it."""
    res = hub.resource(*APPSET)
    patch = {"spec": {"template": {"spec": {"syncPolicy": {"automated": {"selfHeal": on}}}}}}
    for appset in hub.list(res):
        meta = appset["metadata"]
        hub.request("PATCH", res.path(meta["namespace"], meta["name"]), body=patch,
                    content_type=MERGE)  # fmt: skip
    path = hub.resource(*APP).path("argocd", app)
    wait(
        f"selfHeal={on} on {app}",
        lambda: hub.request("GET", path)["spec"]["syncPolicy"]["automated"].get("selfHeal") is on,
    )


def refresh(hub: kubeapi.Cluster, app: str) -> None:
    body = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}
    path = hub.resource(*APP).path("argocd", app)
    hub.request("PATCH", path, body=body, content_type=MERGE)


def reconciled(hub: kubeapi.Cluster, app: str) -> dict[tuple[str, str, str], str]:
    """Per-resource sync status once Argo CD has done the hard refresh asked for after the
    edits (it removes the annotation when it does), else empty."""
    found = hub.request("GET", hub.resource(*APP).path("argocd", app))
    status = found.get("status") or {}
    if "argocd.argoproj.io/refresh" in found["metadata"].get("annotations", {}):
        return {}
    return {
        (r["kind"], r.get("namespace", ""), r["name"]): r.get("status", "")
        for r in status.get("resources", [])
    }


def drift(running: sandbox.Sandbox, env: str, cluster: str) -> dict[tuple[str, str, str], str]:
    """meshops drift's verdict per object, with the paths that differ."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "drift.json"
        cli.main([
            "drift", "--env", env, "--cluster", cluster, "--repo", running.repo,
            "--kubeconfig", running.clusters[cluster], "--format", "json", "--output", str(out),
        ])  # fmt: skip
        report = json.loads(out.read_text())
    verdicts = {}
    for r in report["resources"]:
        paths = ", ".join(f"`{d['path']}`" for d in r.get("differences") or [])
        verdicts[(r["kind"], r["namespace"] or "", r["name"])] = (
            f"{r['status']} ({paths})" if paths else r["status"]
        )
    return verdicts


def wait(what: str, probe: Callable[[], T]) -> T:
    deadline = time.monotonic() + TIMEOUT
    while not (found := probe()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {TIMEOUT:.0f}s waiting for {what}")
        time.sleep(2)
    return found


if __name__ == "__main__":
    sys.exit(main())
