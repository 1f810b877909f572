"""The real istioctl (built from the pinned istio.io/istio module) on our dist and test cases.

scripts/test.sh builds it (scripts/tools.py); the tests use what `meshops validate` would
(ISTIOCTL, else istioctl on PATH), else the pinned build. With CI=true a missing istioctl fails
these tests instead of skipping them: CI must prove dist/ clean under Istio's analyzers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from charts_py import kubeapi
from charts_py.cluster import controlplane
from charts_py.validate import istio_annotations, istioctl, second_opinion, targets
from charts_py.validate.rules.catalog import RULES, Rule
from tests import tools

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = ROOT / "tests" / "testdata" / "validate"


@pytest.fixture(scope="module")
def binary() -> str:
    return istioctl.locate() or str(tools.pinned("istioctl"))


@pytest.fixture
def with_istioctl(binary: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(istioctl.ENV, binary)
    return binary


def test_dist_leaves_no_istio_message_unexplained(with_istioctl: str) -> None:
    """Every dist/<env>/<cluster> through istioctl analyze: no finding left, and each
    suppressed message carries its reason (an out-of-band declaration or a blind spot)."""
    chosen = targets.for_dist(ROOT / "dist", ROOT / "environments")
    report = second_opinion.review(chosen)
    assert report.notes and "ran on each cluster" in report.notes[0]
    assert [f.text for f in report.findings] == []
    for waived in report.suppressed:
        assert waived.reason.strip(), waived.finding.text


def _codes(binary: str, path: Path) -> set[str]:
    return {m.code for m in istioctl.analyze(binary, [str(path)]).messages}


@pytest.mark.parametrize("rule", [r for r in RULES if r.istio], ids=lambda r: r.id)
def test_istioctl_reports_the_code_the_catalog_names(binary: str, rule: Rule) -> None:
    """The docs' "istioctl analyze" column is what offline istioctl says about each rule's
    failing cases (and not about its passing ones). A code marked "live cluster only" it
    does not report offline (it skips the analyzer): there the native rule is the only check
    meshops has on files."""
    fails = sorted((CASES / rule.id).glob("*-fail.yaml"))
    said = set().union(*(_codes(binary, p) for p in fails))
    codes = set(rule.istio.split(","))
    if rule.istio_live:
        assert not said & codes, f"offline istioctl does report {sorted(said & codes)}"
        return
    assert said & codes, f"istioctl said {sorted(said)} for {rule.id}"
    for case in sorted((CASES / rule.id).glob("*-pass.yaml")):
        said = _codes(binary, case) & codes
        assert said == _disagrees(case), f"istioctl said {sorted(said)} on {case.name}"


def _disagrees(case: Path) -> set[str]:
    """The codes a passing case says istioctl reports where meshops deliberately does not
    (`# istioctl disagrees: IST0109 (why)`), and docs/validate.md explains."""
    found = re.search(r"^# istioctl disagrees: (IST\d{4})", case.read_text(), re.MULTILINE)
    return {found.group(1)} if found else set()


def test_validate_merges_istioctl_into_sarif_and_json(with_istioctl: str) -> None:
    case = CASES / "gateway-exists" / "missing-fail.yaml"
    command = [str(Path(sys.executable).parent / "meshops"), "validate", str(case)]
    sarif = json.loads(_run([*command, "--format", "sarif"]))
    run = sarif["runs"][0]
    results = {r["ruleId"] for r in run["results"]}
    assert {"gateway-exists", "istio/IST0101"} <= results
    ids = {d["id"] for d in run["tool"]["driver"]["rules"]}
    assert "istio/IST0101" in ids
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "istioctl analyze" in notes[0]["message"]["text"]
    body = json.loads(_run([*command, "--format", "json"]))
    istio = [f for f in body["findings"] if f["rule"] == "istio/IST0101"]
    assert istio and istio[0]["kind"] == "VirtualService" and istio[0]["name"] == "ingress"


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_annotation_names_match_the_pinned_istio_api() -> None:
    """validate/istio_annotations.py is the list of the istio.io/api that istioctl is built
    with (scripts/istioctl/go.sum), read from the Go module cache the build filled."""
    go_sum = (ROOT / "scripts" / "istioctl" / "go.sum").read_text()
    pinned = re.search(r"^istio\.io/api (v\S+) h1:", go_sum, re.MULTILINE)
    assert pinned and pinned[1] == istio_annotations.API_VERSION
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed")
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True)
    source = Path(cache.stdout.strip()) / f"istio.io/api@{pinned[1]}/annotation/annotations.yaml"
    if not source.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{source} missing: scripts/tools.py build istioctl downloads it")
        pytest.skip(f"{source} not downloaded")
    names = {a["name"] for a in yaml.safe_load(source.read_text())["annotations"]}
    assert names == set(istio_annotations.ANNOTATIONS)


def _live_codes(binary: str, kubeconfig: str, files: list[Path]) -> list[tuple[str, str]]:
    """(code, origin) of istioctl analyze against the local API server plus `files`."""
    command = [binary, "analyze", "-A", "--kubeconfig", kubeconfig, "-o", "json"]
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, check=False)
    out = done.stdout[done.stdout.index("[") :]
    return [(m["code"], m["origin"]) for m in json.loads(out)]


def _into(namespace: str, source: Path, target: Path) -> Path:
    """`source` with namespace `shop` moved to `namespace` (each test owns its namespace)."""
    text = source.read_text().replace("namespace: shop", f"namespace: {namespace}")
    target.write_text(text.replace(".shop.svc.cluster.local", f".{namespace}.svc.cluster.local"))
    return target


def test_a_live_api_server_lets_istioctl_see_ist0140_and_our_dist_is_clear_of_it(
    binary: str,
    control_plane: controlplane.LocalCluster,
    kube: kubeapi.Cluster,
    namespace: str,
    tmp_path: Path,
) -> None:
    """With Services served by a real API server, istioctl runs the analyzer it skips offline
    (the catalog's "live cluster only"): it reports IST0140 on the rule's failing case, and
    neither IST0140 nor IST0133 on the ingress of dist/prod/prod-east with its services."""
    case = _into(
        namespace, CASES / "gateway-route-subsets" / "no-subset-fail.yaml", tmp_path / "c.yaml"
    )
    cluster = ROOT / "dist" / "prod" / "prod-east"
    picked = [
        *sorted((cluster / "gateways").glob("*.yaml")),
        *sorted((cluster / "services").glob("*.yaml")),
    ]
    ours = [_into(namespace, p, tmp_path / p.name) for p in picked]
    for path in [case, *ours]:
        for obj in yaml.safe_load_all(path.read_text()):
            if obj["kind"] == "Service":
                kube.apply(obj, field_manager="meshops-tests")
    said = _live_codes(binary, control_plane.kubeconfig, [case])
    assert ("IST0140", f"VirtualService {namespace}/reviews-ingress") in said
    said = _live_codes(binary, control_plane.kubeconfig, ours)
    # -A also reads what other tests left in the shared API server (istio-system is one
    # namespace for all of them): judge only the objects of these files.
    mine = {
        f"{obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}"
        for path in ours
        for obj in yaml.safe_load_all(path.read_text())
    }
    flagged = {(code, origin) for code, origin in said if origin in mine}
    assert {code for code, _ in flagged} & {"IST0140", "IST0133"} == set(), flagged
    assert ("IST0173", f"DestinationRule {namespace}/frontend") in said  # no controllers, no pods


def test_a_live_api_server_lets_istioctl_see_the_ambient_and_gateway_api_codes(
    binary: str,
    control_plane: controlplane.LocalCluster,
    kube: kubeapi.Cluster,
    namespace: str,
    tmp_path: Path,
) -> None:
    """The catalog's live-only codes of `sidecar-ambient` (IST0167) and `gateway-policy-target`
    (IST0166), from istioctl itself once the API server holds what those analyzers read: the
    namespace's ambient label, and a Gateway API gateway's pod. The passing case's targetRefs
    draw no IST0166."""
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {"istio.io/dataplane-mode": "ambient"}},
        },
        field_manager="meshops-tests",
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "ingress-istio-0",
            "namespace": namespace,
            "labels": {"gateway.networking.k8s.io/gateway-name": "ingress"},
        },
        "spec": {"containers": [{"name": "istio-proxy", "image": "istio/proxyv2:1.31.4"}]},
    }
    # No controllers here: the ServiceAccount admission wants the pod's account to exist.
    account = {"apiVersion": "v1", "kind": "ServiceAccount"}
    kube.apply(
        {**account, "metadata": {"name": "default", "namespace": namespace}},
        field_manager="meshops-tests",
    )
    kube.apply(pod, field_manager="meshops-tests")
    cases = CASES / "sidecar-ambient", CASES / "gateway-policy-target"
    sidecar = _into(namespace, cases[0] / "ambient-namespace-fail.yaml", tmp_path / "s.yaml")
    said = _live_codes(binary, control_plane.kubeconfig, [sidecar])
    assert ("IST0167", f"Sidecar {namespace}/default") in said, said
    for name, expected in (("selector-on-k8s-gateway-fail", True), ("target-refs-pass", False)):
        policy = tmp_path / f"{name}.yaml"
        policy.write_text(
            (cases[1] / f"{name}.yaml").read_text().replace("istio-system", namespace)
        )
        said = _live_codes(binary, control_plane.kubeconfig, [policy])
        found = ("IST0166", f"RequestAuthentication {namespace}/ingress-jwt") in said
        assert found == expected, (name, said)
