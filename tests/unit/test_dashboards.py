"""Grafana dashboards stay ConfigMaps the API server accepts at any number of services."""

from __future__ import annotations

import json
from typing import Any

import yaml

from charts_py.config import environment
from charts_py.constructs import monitoring

MAX_CONFIGMAP_DATA = 1024 * 1024
"""The API server refuses a ConfigMap whose data exceeds 1 MiB (corev1.MaxSecretSize)."""


def _env(services: int) -> environment.Environment:
    data: dict[str, Any] = {
        "profile": "dev",
        "namespace": "shop",
        "clusters": [{"name": "c1", "region": "r1", "network": "n1"}],
        "argocd": {"repoURL": "https://git.example.com/shop.git"},
        "ingress": {"hosts": ["shop.example.com"], "tlsSecret": "shop-tls"},
        "services": [
            {"name": f"svc-{i:04d}", "image": f"registry.example.com/svc-{i:04d}:1"}
            for i in range(services)
        ],
    }
    data["services"][0]["ingress"] = {"path": "/"}
    return environment.load_text(yaml.safe_dump(data), "dev", "environments/dev.yaml")


def _dashboards(services: int) -> list[dict[str, object]]:
    env = _env(services)
    pages = monitoring._pages(env.spec.services)
    return [monitoring._dashboard(env, s, i, len(pages)) for i, s in enumerate(pages, 1)]


def test_one_dashboard_up_to_a_page_of_services() -> None:
    (only,) = _dashboards(monitoring.DASHBOARD_SERVICES)
    assert only["uid"] == "meshops-dev-shop" and only["title"] == "shop mesh (dev)"


def test_a_thousand_services_fit_in_accepted_configmaps() -> None:
    dashboards = _dashboards(1000)
    assert len(dashboards) == 1000 // monitoring.DASHBOARD_SERVICES
    sizes = [len(json.dumps(d, indent=2, sort_keys=True).encode()) for d in dashboards]
    assert max(sizes) < MAX_CONFIGMAP_DATA / 4
    uids = [d["uid"] for d in dashboards]
    assert uids[:2] == ["meshops-dev-shop", "meshops-dev-shop-2"] and len(set(uids)) == len(uids)
    assert dashboards[1]["title"] == "shop mesh (dev) 2/20"
    titles = [p["title"] for d in dashboards for p in d["panels"]]  # type: ignore[attr-defined]
    assert len(titles) == 3 * 1000 and len(set(titles)) == len(titles)
