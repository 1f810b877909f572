"""The one way a construct emits a Kubernetes object into a cdk8s tree.

Each object costs three jsii calls (create, patch op, patch) however large its body: passing
the body as one JSON patch is the cheapest path into cdk8s we measured (typed L1 classes
cost ~3 ms per object, mostly struct conversion; see docs/development.md "Performance").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cdk8s
from constructs import Construct

from charts_py.contract import SYNC_WAVE
from charts_py.kinds import Kind

Body = Mapping[str, Any]


def emit(
    scope: Construct,
    kind: Kind,
    name: str,
    body: Body | None = None,
    *,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> cdk8s.ApiObject:
    """Add one object named `name` under `scope`; `body` holds its top-level fields (spec, ...).

    The construct id is `<Kind>-<name>`, unique per scope, so renaming a construct never
    changes an object's name or selector.
    """
    if kind.namespaced != (namespace is not None):
        raise ValueError(f"{kind.kind}/{name}: namespace must be set iff the kind is namespaced")
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    metadata["annotations"] = {SYNC_WAVE: str(kind.wave), **(annotations or {})}
    obj = cdk8s.ApiObject(
        scope,
        f"{kind.kind}-{name}",
        api_version=kind.api_version,
        kind=kind.kind,
        metadata=metadata,
    )
    if body:
        obj.add_json_patch(*(cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()))
    return obj
