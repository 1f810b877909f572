"""Backup cleaning and Secret references: the pure parts of backup and restore."""

from __future__ import annotations

from typing import Any

from charts_py.recovery import clean, layout, secrets


def live_service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "cart",
            "namespace": "shop",
            "uid": "u-1",
            "resourceVersion": "42",
            "annotations": {clean.LAST_APPLIED: "{}"},
            "managedFields": [
                {
                    "manager": "argocd-controller",
                    "operation": "Apply",
                    "fieldsV1": {
                        "f:metadata": {"f:annotations": {f"f:{clean.LAST_APPLIED}": {}}},
                        "f:spec": {
                            "f:clusterIP": {},
                            "f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}},
                        },
                    },
                }
            ],
        },
        "spec": {
            "clusterIP": "10.0.0.7",
            "sessionAffinity": "None",  # a server default: owned by nobody
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 30001}],
        },
        "status": {"loadBalancer": {}},
    }


def test_reapply_keeps_only_set_fields_without_bookkeeping_or_allocations() -> None:
    assert clean.for_reapply(live_service(), frozenset()) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {"ports": [{"port": 80}]},
    }


def test_autoscaled_workloads_lose_replicas() -> None:
    hpa = {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "cart-v1"}},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cart-v1", "namespace": "shop"},
        "spec": {"replicas": 4},
    }
    assert clean.for_reapply(deployment, clean.autoscaled([hpa]))["spec"] == {}


def test_secret_references_by_field_name() -> None:
    pod_spec = {
        "imagePullSecrets": [{"name": "pull"}],
        "volumes": [{"name": "certs", "secret": {"secretName": "certs"}}],
        "containers": [
            {"envFrom": [{"secretRef": {"name": "env"}}]},
            {"env": [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "key", "key": "k"}}}]},
        ],
    }
    objects = [
        {"kind": "Deployment", "metadata": {"name": "d", "namespace": "shop"},
         "spec": {"template": {"spec": pod_spec}}},
        {"kind": "Gateway", "metadata": {"name": "gw", "namespace": "istio-system"},
         "spec": {"servers": [{"tls": {"credentialName": "tls"}}]}},
    ]  # fmt: skip
    found = {(n.namespace, n.name): n.reason for n in secrets.referenced(objects)}
    assert set(found) == {("shop", n) for n in ("pull", "certs", "env", "key")} | {
        ("istio-system", "tls")
    }
    assert (
        found[("istio-system", "tls")]
        == "Gateway istio-system/gw /spec/servers/0/tls/credentialName"
    )


def test_from_paths_and_newest_backup() -> None:
    assert layout.parse_path("prod/east/backup-20260101T000000Z/") == (
        "prod",
        "east",
        "prod/east/backup-20260101T000000Z",
    )
    assert layout.parse_path("meshops/snapshots") is None
    names = ["20260105T000000Z", "backup-20260101T000000Z", "backup-20260102T000000Z"]
    assert layout.newest(names) == "backup-20260102T000000Z"
