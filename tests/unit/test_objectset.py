"""The bulk path into cdk8s: a valid jsii assembly, and real ApiObjects in the construct tree."""

from __future__ import annotations

import os
import subprocess
import sys

import cdk8s
import pytest
from constructs import Construct

from charts_py import kinds
from charts_py.constructs import objects, objectset


def test_the_assembly_passes_jsiis_own_validation() -> None:
    """The assembly spec is written by hand: jsii's kernel checks it against its schema when
    asked to, and (with its package cache off) loads index.js from a fresh extraction."""
    env = {**os.environ, "JSII_VALIDATE_ASSEMBLIES": "1", "JSII_RUNTIME_PACKAGE_CACHE": "disabled"}
    run = subprocess.run(
        [sys.executable, "-c", "import charts_py.constructs.objectset"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_the_tarball_is_byte_stable() -> None:
    assert objectset.tarball() == objectset.tarball()


def _app() -> tuple[cdk8s.App, cdk8s.Chart, Construct]:
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "services", labels={"team": "shop"})
    return app, chart, Construct(chart, "cart")


def test_emitted_objects_are_api_objects_under_their_construct() -> None:
    with objects.batch():
        app, chart, cart = _app()
        body = {"spec": {"ports": [{"port": 80}], "selector": {"app": "cart"}}}
        objects.emit(cart, kinds.SERVICE, "cart", body, namespace="shop", labels={"app": "cart"})
        objects.emit(chart, kinds.NAMESPACE, "shop")
    found = [c for c in chart.node.find_all() if cdk8s.ApiObject.is_api_object(c)]
    assert sorted(c.node.path for c in found) == [
        "services/Namespace-shop",
        "services/cart/Service-shop-cart",
    ]
    [(name, rendered)] = objectset.app_json(app)
    assert name == "services"
    service = next(o for o in rendered if o["kind"] == "Service")
    assert service == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "annotations": {objects.SYNC_WAVE: str(kinds.SERVICE.wave)},
            "labels": {"app": "cart", "team": "shop"},  # the chart's label, added by cdk8s
            "name": "cart",
            "namespace": "shop",
        },
        "spec": {"ports": [{"port": 80}], "selector": {"app": "cart"}},
    }


def test_emit_outside_a_batch_is_refused() -> None:
    _, chart, _ = _app()
    with pytest.raises(RuntimeError, match=r"Namespace/shop: emit\(\) outside objects.batch"):
        objects.emit(chart, kinds.NAMESPACE, "shop")


def test_a_failed_batch_adds_nothing() -> None:
    app, chart, _ = _app()
    with pytest.raises(ValueError, match="namespace must be set"), objects.batch():
        objects.emit(chart, kinds.NAMESPACE, "shop")
        objects.emit(chart, kinds.SERVICE, "cart")  # namespaced kind without a namespace
    assert objectset.app_json(app) == [("services", [])]
