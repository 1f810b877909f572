"""An isolated drift scenario: sample objects moved into a test's own namespace and given a
cluster name of their own, committed to a fresh git repository and applied like Argo CD."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import yaml

from charts_py import apply, contract, kubeapi
from charts_py.drift import run
from charts_py.drift.model import Report, Result
from charts_py.render.manifest import file_name

ENV = "staging"


@dataclass
class Scenario:
    """A deployed environment slice and the tools to change it and check it."""

    kube: kubeapi.Cluster
    kubeconfig: str
    kubectl_bin: Path
    repo: Path
    namespace: str
    cluster: str
    objects: list[dict[str, Any]]

    def commit(self, objects: list[dict[str, Any]] | None = None) -> None:
        """Write `objects` (default: the current ones) as dist/ and commit them."""
        if objects is not None:
            self.objects = objects
        folder = self.repo / "dist" / ENV / self.cluster / "all"
        for old in folder.glob("*.yaml"):
            old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for obj in self.objects:
            (folder / file_name(obj)).write_text(yaml.safe_dump(obj, sort_keys=True))
        repo = git.Repo(self.repo)
        repo.git.add("-A")
        repo.git.commit("-m", "desired state", "--allow-empty")

    def sync(self) -> None:
        """What Argo CD does: server-side apply everything with its field manager."""
        apply.apply(self.kube, self.objects)

    def drift(self, **options: Any) -> Report:
        opts = run.Options(
            env=ENV,
            cluster=self.cluster,
            repo=self.repo,
            kubeconfig=options.pop("kubeconfig", self.kubeconfig),
            **options,
        )
        return run.run(opts)[0]

    def cli_args(self, *extra: str, kubeconfig: str | None = None) -> list[str]:
        """`meshops drift` arguments for this scenario."""
        config = kubeconfig or self.kubeconfig
        return ["drift", "--env", ENV, "--cluster", self.cluster, "--repo", str(self.repo),
                "--kubeconfig", config, *extra]  # fmt: skip

    def kubectl(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> str:
        done = subprocess.run(
            [str(self.kubectl_bin), "--kubeconfig", self.kubeconfig, "-n", self.namespace, *args],
            input=stdin,
            text=True,
            capture_output=True,
            env={**os.environ, **(env or {})},
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
        return done.stdout

    def find(self, kind: str, name: str) -> dict[str, Any]:
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)

    def edit(self, kind: str, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the desired copy of one object in place (then commit and/or sync)."""
        change(self.find(kind, name))


def isolate(objects: list[dict[str, Any]], namespace: str, cluster: str) -> list[dict[str, Any]]:
    """Namespaced objects moved into `namespace`, labelled for `cluster`; cluster-scoped
    objects dropped (they would be shared between tests)."""
    out = []
    for obj in objects:
        if "namespace" not in obj["metadata"]:
            continue
        obj = copy.deepcopy(obj)
        obj["metadata"]["namespace"] = namespace
        obj["metadata"]["labels"][contract.CLUSTER] = cluster
        out.append(obj)
    return out


def results(report: Report) -> dict[tuple[str, str], Result]:
    return {(r.ref.kind, r.ref.name): r for r in report.results}


def diverged(report: Report) -> dict[tuple[str, str], Result]:
    return {k: r for k, r in results(report).items() if r.status != "in-sync"}


def payload(report: Report) -> str:
    return json.dumps(report.to_json())
