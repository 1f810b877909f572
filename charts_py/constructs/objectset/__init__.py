"""Many ApiObjects into a cdk8s tree, and an App's objects out, in one jsii call each.

Every jsii call is a round trip to jsii's node process plus a walk of its arguments on both
sides; three calls per object (create, patch op, patch) were most of synth's time. This
module loads a small jsii assembly of our own (`index.js` beside this file; the assembly
spec below is its type information) whose static methods take and return JSON strings, so
a whole App's objects cross once on the way in and once on the way out. The objects are
still `cdk8s.ApiObject`s under the constructs that emitted them, synthesized by cdk8s.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Sequence
from importlib import resources
from typing import Any

import cdk8s
import jsii
from constructs import Construct

NAME = "meshops-objectset"
VERSION = "1.0.0"
_TYPE = f"{NAME}.ObjectSet"

_ASSEMBLY: dict[str, Any] = {
    "schema": "jsii/0.10.0",
    "name": NAME,
    "version": VERSION,
    "description": "Define many cdk8s ApiObjects, and render an App, in one call each",
    "license": "Apache-2.0",
    "homepage": "https://github.com/meshops/meshops",
    "repository": {"type": "git", "url": "https://github.com/meshops/meshops.git"},
    "author": {"name": "meshops", "roles": ["author"]},
    "fingerprint": f"{NAME}@{VERSION}",
    "jsiiVersion": "1.0.0 (written by hand)",
    "dependencies": {"cdk8s": "^2.70.100", "constructs": "^10.4.0"},
    "targets": {"js": {"npm": NAME}},
    "types": {
        _TYPE: {
            "assembly": NAME,
            "fqn": _TYPE,
            "kind": "class",
            "name": "ObjectSet",
            "methods": [
                {
                    "name": "define",
                    "static": True,
                    "parameters": [
                        {
                            "name": "scopes",
                            "type": {
                                "collection": {
                                    "kind": "array",
                                    "elementtype": {"fqn": "constructs.Construct"},
                                }
                            },
                        },
                        {"name": "objects", "type": {"primitive": "string"}},
                    ],
                },
                {
                    "name": "appJson",
                    "static": True,
                    "parameters": [{"name": "app", "type": {"fqn": "cdk8s.App"}}],
                    "returns": {"type": {"primitive": "string"}},
                },
            ],
        }
    },
}


class _ObjectSet(metaclass=jsii.JSIIMeta, jsii_type=_TYPE):
    """The Python face of `ObjectSet` in index.js (static methods only)."""


def tarball() -> bytes:
    """The assembly as an npm package tarball (what jsii's kernel loads). Byte-stable, so
    jsii's package cache keeps one copy of it."""
    files = {
        "package/package.json": json.dumps({"name": NAME, "version": VERSION, "main": "index.js"}),
        "package/.jsii": json.dumps(_ASSEMBLY, sort_keys=True),
        "package/index.js": resources.files(__name__).joinpath("index.js").read_text("utf-8"),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue(), mtime=0)


def _load() -> None:
    with tempfile.TemporaryDirectory(prefix="meshops-objectset-") as tmp:
        path = os.path.join(tmp, f"{NAME}@{VERSION}.jsii.tgz")
        with open(path, "wb") as f:
            f.write(tarball())
        # What generated jsii packages do via JSIIAssembly.load, minus the package resource
        # (ours is built in memory): jsii's public `load`, the kernel's.
        jsii.load(NAME, VERSION, path)


def define(entries: Sequence[tuple[Construct, str, dict[str, Any]]]) -> None:
    """`cdk8s.ApiObject(scope, id, manifest)` for every entry, in order, in one call."""
    if not entries:
        return
    index: dict[int, int] = {}
    scopes: list[Construct] = []
    rows = []
    for scope, construct_id, manifest in entries:
        at = index.setdefault(id(scope), len(scopes))
        if at == len(scopes):
            scopes.append(scope)
        rows.append((at, construct_id, manifest))
    jsii.sinvoke(_ObjectSet, "define", [scopes, json.dumps(rows, separators=(",", ":"))])


def app_json(app: cdk8s.App) -> list[tuple[str, list[dict[str, Any]]]]:
    """(chart id, `chart.to_json()`) for every chart of `app` (each object synthesized by
    cdk8s), in one call: not three per chart (charts, id, objects)."""
    charts = json.loads(jsii.sinvoke(_ObjectSet, "appJson", [app]))
    return [(name, objects) for name, objects in charts]


_load()
