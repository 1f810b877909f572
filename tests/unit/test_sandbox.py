"""The sandbox applies the bootstrap as generated, with only the repository URL replaced."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from charts_py.cluster import sandbox
from tests.conftest import REPO

LOCAL = "http://127.0.0.1:1/meshops"


def test_only_this_repositorys_url_is_replaced(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(REPO / "dist" / "_bootstrap", dist / "_bootstrap")
    helm = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "istiod", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://istio-release.storage.googleapis.com/charts"}},
    }
    (dist / "_bootstrap" / "extra.yaml").write_text(yaml.safe_dump(helm))
    generated = yaml.safe_dump_all(
        yaml.safe_load(f.read_text()) for f in sorted((REPO / "dist/_bootstrap").rglob("*.yaml"))
    )
    objects = sandbox.bootstrap(dist, LOCAL)
    text = yaml.safe_dump_all(objects)
    assert "git.example.com" in generated and "git.example.com" not in text
    assert text.count(LOCAL) == generated.count("https://git.example.com/platform/shop-mesh.git")
    assert "https://istio-release.storage.googleapis.com/charts" in text


def test_clusters_are_the_generators_folders() -> None:
    assert sandbox.clusters_in(REPO / "dist") == [
        "ambient-1",
        "dev-1",
        "prod-east",
        "prod-west",
        "staging-1",
    ]


def test_a_revision_replaces_only_this_repositorys_revisions(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(REPO / "dist" / "_bootstrap", dist / "_bootstrap")
    appsets = {
        o["metadata"]["name"]: o
        for o in sandbox.bootstrap(dist, LOCAL, "HEAD")
        if o["kind"] == "ApplicationSet"
    }
    appset = appsets["meshops"]
    assert appset["spec"]["generators"][0]["git"]["revision"] == "HEAD"
    assert appset["spec"]["template"]["spec"]["source"]["targetRevision"] == "HEAD"
    team = appsets["meshops-payments"]["spec"]["template"]["spec"]["source"]  # a list generator
    assert (team["repoURL"], team["targetRevision"]) == (LOCAL, "HEAD")
