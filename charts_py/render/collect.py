"""Take objects out of cdk8s Apps as plain dicts, placed at their dist/ paths.

We do not call `app.synth()`: it leaves stale files, names files after construct paths and
collides on Kind.name across namespaces. Every chart's `Chart.toJson()`, returned as one
JSON string per App (objectset.app_json), is also the cheapest way out of jsii.
"""

from __future__ import annotations

from collections.abc import Iterable

import cdk8s

from charts_py.constructs import objectset
from charts_py.errors import RenderError
from charts_py.render.manifest import Manifest, file_name


def manifests(app: cdk8s.App, prefix: str) -> list[Manifest]:
    """Every object of `app`, at `<prefix>/<chart>/<file>`."""
    return [
        Manifest(f"{prefix}/{chart}/{file_name(obj)}", chart, obj)
        for chart, objects in objectset.app_json(app)
        for obj in objects
    ]


def check_unique(items: Iterable[Manifest]) -> None:
    """One object per identity per cluster: a second one would silently replace the first.

    The file name encodes kind, group, namespace and name, so two manifests collide when
    their (env/cluster, file name) pairs are equal, whichever charts they come from.
    """
    seen: dict[tuple[str, str], Manifest] = {}
    for m in items:
        where, _, rest = m.path.rpartition("/")
        key = (where.rsplit("/", 1)[0], rest)
        first = seen.setdefault(key, m)
        if first is not m:
            raise RenderError(
                f"{m.path}: {first.identity} (chart {first.chart}) and {m.identity} "
                f"(chart {m.chart}) are the same object"
            )
