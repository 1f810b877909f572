"""Real configurations expressed as environment files: which originals each case reproduces,
and where meshops's rendering legitimately differs, each with its reason.

Used by tests/unit/test_expressed.py (rendered vs. parsed originals) and
tests/integration/test_expressed.py (both as the real API server stores them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from charts_py.config import environment
from charts_py.render import synth

TESTDATA = Path(__file__).resolve().parent / "testdata"
EXPRESSED = TESTDATA / "expressed"
BOOKINFO = "istio/samples/bookinfo/networking"
ISTIO_API_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io")

Key = tuple[str, str]
"""(kind, name) of an object in the case's namespace."""


@dataclass(frozen=True)
class Case:
    """An environment file and the original files whose Istio objects it reproduces, applied
    in order (a later object of the same kind and name replaces an earlier one, as
    `kubectl apply` of the files in turn leaves them)."""

    name: str
    originals: tuple[str, ...]
    renamed: dict[Key, str] = field(default_factory=dict)
    """Original (kind, name) -> the name meshops gives it, when it differs."""
    extras: dict[str, str] = field(default_factory=dict)
    """Kinds meshops adds in the application namespace beyond the originals, with why."""

    @property
    def file(self) -> Path:
        return EXPRESSED / f"{self.name}.yaml"


SUBSETS = (
    "meshops writes every service's subsets (DestinationRule), even where nothing routes to them"
)

CASES = (
    Case(
        "bookinfo",
        (
            f"{BOOKINFO}/destination-rule-all.yaml",
            f"{BOOKINFO}/virtual-service-all-v1.yaml",
            f"{BOOKINFO}/bookinfo-gateway.yaml",
        ),
    ),
    Case(
        "bookinfo-jason-v2-v3",
        (
            f"{BOOKINFO}/destination-rule-all.yaml",
            f"{BOOKINFO}/virtual-service-all-v1.yaml",
            f"{BOOKINFO}/virtual-service-reviews-jason-v2-v3.yaml",
            f"{BOOKINFO}/bookinfo-gateway.yaml",
        ),
    ),
    Case(
        "bookinfo-fault-delay",
        (
            f"{BOOKINFO}/destination-rule-all.yaml",
            f"{BOOKINFO}/virtual-service-all-v1.yaml",
            f"{BOOKINFO}/virtual-service-reviews-test-v2.yaml",
            f"{BOOKINFO}/virtual-service-ratings-test-delay.yaml",
        ),
    ),
    Case(
        "bookinfo-fault-abort",
        (
            f"{BOOKINFO}/destination-rule-all-mtls.yaml",
            f"{BOOKINFO}/virtual-service-all-v1.yaml",
            f"{BOOKINFO}/virtual-service-reviews-test-v2.yaml",
            f"{BOOKINFO}/virtual-service-ratings-test-abort.yaml",
        ),
    ),
    Case(
        "bookinfo-ratings-db",
        (
            f"{BOOKINFO}/destination-rule-all.yaml",
            f"{BOOKINFO}/virtual-service-ratings-db.yaml",
            f"{BOOKINFO}/virtual-service-details-v2.yaml",
            f"{BOOKINFO}/egress-rule-google-apis.yaml",
        ),
        renamed={("DestinationRule", "originate-tls-for-googleapis"): "googleapis"},
        extras={"DestinationRule": f"{SUBSETS} (mongodb)"},
    ),
    *(
        Case(
            f"bookinfo-{variant}",
            (
                f"{BOOKINFO}/destination-rule-all.yaml",
                f"{BOOKINFO}/virtual-service-all-v1.yaml",
                f"{BOOKINFO}/{original}",
                f"{BOOKINFO}/bookinfo-gateway.yaml",
            ),
        )
        for variant, original in (
            ("reviews-50-v3", "virtual-service-reviews-50-v3.yaml"),
            ("reviews-80-20", "virtual-service-reviews-80-20.yaml"),
            ("reviews-90-10", "virtual-service-reviews-90-10.yaml"),
            ("reviews-v2-v3", "virtual-service-reviews-v2-v3.yaml"),
            ("reviews-v3", "virtual-service-reviews-v3.yaml"),
            ("ratings-mysql", "virtual-service-ratings-mysql.yaml"),
            ("ratings-mysql-vm", "virtual-service-ratings-mysql-vm.yaml"),
            ("reviews-random", "destination-rule-reviews.yaml"),
        )
    ),
    Case("bookinfo-details-fault", (f"{BOOKINFO}/fault-injection-details-v1.yaml",)),
    Case(
        "helloworld",
        ("istio/samples/helloworld/helloworld-gateway.yaml",),
        extras={"DestinationRule": SUBSETS},
    ),
    Case(
        "httpbin-mirroring",
        ("istio.io/mirroring-default.yaml", "istio.io/mirroring-v2.yaml"),
    ),
    Case(
        "httpbin",
        ("istio/samples/httpbin/httpbin-gateway.yaml",),
        extras={"DestinationRule": SUBSETS},
    ),
    Case(
        "tcp-echo",
        ("istio/samples/tcp-echo/tcp-echo-all-v1.yaml",),
    ),
    Case(
        "tcp-echo-20-v2",
        (
            "istio/samples/tcp-echo/tcp-echo-all-v1.yaml",
            "istio/samples/tcp-echo/tcp-echo-20-v2.yaml",
        ),
    ),
    Case(
        "microservices-demo",
        (
            "microservices-demo/istio-manifests/allow-egress-googleapis.yaml",
            "microservices-demo/istio-manifests/frontend-gateway.yaml",
            "microservices-demo/istio-manifests/frontend.yaml",
        ),
        extras={"DestinationRule": SUBSETS},
    ),
)


UNEXPRESSED = {
    f"{BOOKINFO}/certmanager-gateway.yaml": (
        "its Gateway and VirtualService live in istio-system, Istio's root namespace, which "
        "meshops renders for the control plane and no environment may take as an application "
        "namespace; elsewhere the route's short host `cert-manager-resolver` would name "
        "another namespace's Service"
    ),
}
"""Networking variants of bookinfo no case expresses, with why."""


def originals(case: Case) -> dict[Key, dict[str, Any]]:
    """The case's original Istio objects by (kind, name), later files replacing earlier."""
    out: dict[Key, dict[str, Any]] = {}
    for name in case.originals:
        for doc in yaml.safe_load_all((TESTDATA / name).read_text(encoding="utf-8")):
            if (
                isinstance(doc, dict)
                and doc.get("apiVersion", "").split("/")[0] in ISTIO_API_GROUPS
            ):
                out[(doc["kind"], doc["metadata"]["name"])] = doc
    return out


def rendered(case: Case) -> tuple[str, list[dict[str, Any]]]:
    """The environment's namespace and every object meshops renders for the case."""
    env = environment.load(case.file)
    return env.spec.namespace, [m.obj for m in synth.manifests([env], [env])]


def ours_in(namespace: str, objects: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The rendered Istio objects of the application namespace, by (kind, name)."""
    return {
        (o["kind"], o["metadata"]["name"]): o
        for o in objects
        if _istio(o) and o["metadata"].get("namespace") == namespace
    }


def _istio(obj: dict[str, Any]) -> bool:
    return str(obj.get("apiVersion", "")).split("/")[0] in ISTIO_API_GROUPS


def expected_spec(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    """An original's spec as meshops writes the same configuration, each change a meaning-
    preserving one Istio documents:

    - a short host of a VirtualService's `hosts` or a DestinationRule's `host` is the
      Service of that name in the object's namespace: meshops writes its FQDN;
    - a ServiceEntry without `location` or `resolution` is MESH_EXTERNAL and NONE: meshops
      writes them out.
    """
    spec = copy.deepcopy(obj.get("spec") or {})
    kind = obj["kind"]
    if kind == "VirtualService":
        spec["hosts"] = [_fqdn(h, namespace) for h in spec.get("hosts", [])]
    elif kind == "DestinationRule":
        spec["host"] = _fqdn(spec["host"], namespace)
    elif kind == "ServiceEntry":
        spec.setdefault("location", "MESH_EXTERNAL")
        spec.setdefault("resolution", "NONE")
    return spec


def _fqdn(host: str, namespace: str) -> str:
    if host == "*" or "." in host:
        return host
    return f"{host}.{namespace}.svc.cluster.local"


def differences(case: Case, namespace: str, ours: dict[Key, dict[str, Any]]) -> list[str]:
    """`compare` of the case's original files with `ours`."""
    return compare(case, originals(case), namespace, ours)


def compare(
    case: Case,
    theirs: dict[Key, dict[str, Any]],
    namespace: str,
    ours: dict[Key, dict[str, Any]],
) -> list[str]:
    """Every original without its rendered twin (same kind, name, and expected spec), and
    every rendered object neither an original nor an extra the case explains."""
    problems = []
    matched = set()
    for (kind, name), original in theirs.items():
        twin = (kind, case.renamed.get((kind, name), name))
        matched.add(twin)
        found = ours.get(twin)
        if found is None:
            problems.append(f"{kind}/{name}: not rendered")
        elif found.get("spec") != expected_spec(original, namespace):
            problems.append(
                f"{kind}/{name}: spec differs\n  ours: {found.get('spec')}\n"
                f"  want: {expected_spec(original, namespace)}"
            )
    for kind, name in sorted(set(ours) - matched):
        if kind not in case.extras:
            problems.append(f"{kind}/{name}: rendered, not in the originals, not explained")
    return problems
