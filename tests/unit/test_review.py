"""`meshops review` end to end: a real git repository holding this checkout's environments/
and dist/ on `main`, one branch per edit of a sample environment file (rendered by real synth
and committed), and the review of `main` -> that branch through the CLI, read as JSON.

Each change class has its edit, its expected kind, risk and blast radius; edits that change
no object (a comment, a reformatted file, reordered keys) report nothing.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import cli
from charts_py.render import synth

REPO = Path(__file__).resolve().parents[2]
PROD = ["prod-east", "prod-west"]
_ID = ("-c", "user.name=t", "-c", "user.email=t@example.com")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *_ID, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose `main` holds this checkout's environments/ and dist/ (current)."""
    root = tmp_path_factory.mktemp("review") / "shop"
    root.mkdir()
    for folder in ("environments", "dist"):
        shutil.copytree(REPO / folder, root / folder)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root


Edit = Callable[[str], str]


def branch(
    repo: Path,
    name: str,
    env: str,
    edit: Edit,
    *,
    synthesise: bool = True,
    team: str = "",
    start: str = "main",
) -> str:
    """A branch off `start` whose commit edits environments/<env>.yaml (or a team's file,
    environments/<env>/<team>.yaml) and synthesises dist/."""
    _git(repo, "checkout", "-q", "-B", name, start)
    path = repo / "environments" / (f"{env}/{team}.yaml" if team else f"{env}.yaml")
    text = path.read_text()
    changed = edit(text)
    assert changed != text, "the edit did not apply"
    path.write_text(changed)
    if synthesise:
        synth.run(repo / "environments", repo / "dist", [env])
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", name)
    _git(repo, "checkout", "-q", "main")
    return name


def review(
    repo: Path, capsys: pytest.CaptureFixture[str], *args: str, code: int = 0
) -> dict[str, Any]:
    capsys.readouterr()
    assert cli.main(["review", "--repo", str(repo), "--format", "json", *args]) == code
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def reviewed(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str, env: str, edit: Edit
) -> Any:
    """The JSON review of main -> a new branch `name` that makes `edit`."""
    return review(repo, capsys, "--base", "main", "--head", branch(repo, name, env, edit))


def replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def line(env: str, text: str) -> int:
    """The line of `text` in this checkout's environments/<env>.yaml (the sample's lines move)."""
    lines = (REPO / "environments" / f"{env}.yaml").read_text().splitlines()
    return next(i for i, found in enumerate(lines, 1) if text in found)


def only(data: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in data["changes"] if c["kind"] == kind]
    assert len(found) == 1, json.dumps(data["changes"], indent=1)
    return found[0]


# --- one test per change class ------------------------------------------------------------


def test_canary_shift_is_one_change_for_both_clusters(shop: Path, capsys: Any) -> None:
    shift = replace("{name: v1, weight: 90}", "{name: v1, weight: 80}")
    name = branch(shop, "shift", "prod", lambda t: shift(t).replace("weight: 10,", "weight: 20,"))
    data = review(shop, capsys, "--base", "main", "--head", name)
    assert data["schemaVersion"] == 1
    assert data["base"] == {"ref": "main", "commit": _git(shop, "rev-parse", "main")}
    assert data["head"] == {"ref": name, "commit": _git(shop, "rev-parse", name)}
    change = only(data, "traffic-shift")
    assert [c["kind"] for c in data["changes"]] == ["traffic-shift"]
    assert change["env"] == "prod" and change["clusters"] == PROD
    assert (change["service"], change["namespace"]) == ("reviews", "shop")
    assert change["before"] == {"v1": 90, "v2": 10} and change["after"] == {"v1": 80, "v2": 20}
    assert change["risk"] == "medium"
    assert change["blastRadius"] == {"callers": ["catalog", "frontend"], "ingressHosts": []}
    assert change["source"]["file"] == "environments/prod.yaml"
    assert change["source"]["field"] == "services[2].versions[0].weight"
    assert change["source"]["line"] == line("prod", "{name: v1, weight: 90}")
    assert {o["cluster"] for o in change["objects"]} == set(PROD)
    assert {o["kind"] for o in change["objects"]} == {"VirtualService"}
    assert data["summary"]["changes"] == 1 and data["summary"]["risk"] == "medium"


def test_shorter_timeout_is_high_and_names_its_callers(shop: Path, capsys: Any) -> None:
    name = branch(shop, "timeout", "prod", replace("timeout: 5s", "timeout: 4500ms"))
    change = only(review(shop, capsys, "--base", "main", "--head", name), "timeout")
    assert (change["service"], change["before"], change["after"]) == ("catalog", "5s", "4500ms")
    assert change["risk"] == "high" and change["clusters"] == PROD
    # search/indexer calls it from namespace search (environments/prod/search.yaml)
    assert change["blastRadius"]["callers"] == ["frontend", "recommendations", "search/indexer"]
    assert change["source"] == {
        "file": "environments/prod.yaml",
        "line": line("prod", "timeout: 5s"),
        "field": "services[1].timeout",
    }


def test_retries_carry_their_budget_against_the_timeout(shop: Path, capsys: Any) -> None:
    edit = replace(
        "retries: {attempts: 2, perTryTimeout: 1500ms}",
        "retries: {attempts: 3, perTryTimeout: 1200ms}",
    )
    change = only(reviewed(shop, capsys, "retries", "prod", edit), "retries")
    assert change["service"] == "catalog" and change["risk"] == "medium"
    assert change["before"]["budget"] == "4.5s" and change["after"]["budget"] == "4.8s"
    assert change["after"]["timeout"] == "5s" and change["after"]["attempts"] == 3


def test_outlier_detection_change(shop: Path, capsys: Any) -> None:
    edit = replace(
        "    calls: [cart, payment, shipping, accounts]\n",
        "    calls: [cart, payment, shipping, accounts]\n"
        "    outlierDetection: {consecutive5xxErrors: 3,"
        " interval: 5s, baseEjectionTime: 60s, maxEjectionPercent: 30}\n",
    )
    change = only(reviewed(shop, capsys, "outlier", "prod", edit), "outlier")
    assert change["service"] == "checkout" and change["risk"] == "medium"
    assert change["before"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert change["after"]["outlierDetection"]["consecutive5xxErrors"] == 3
    assert change["blastRadius"]["callers"] == ["frontend"]


def test_fault_injection_behind_a_header(shop: Path, capsys: Any) -> None:
    edit = replace(
        "    calls: [reviews]\n    timeout: 5s\n",
        "    calls: [reviews]\n    timeout: 5s\n    fault: {percent: 5, abort: 503}\n",
    )
    data = reviewed(shop, capsys, "fault", "staging", edit)
    change = only(data, "fault")
    assert (change["env"], change["clusters"], change["service"]) == (
        "staging",
        ["staging-1"],
        "catalog",
    )
    assert change["before"] is None and change["after"]["abort"]["httpStatus"] == 503
    assert change["risk"] == "medium"  # gated by the x-meshops-fault header
    assert change["blastRadius"]["callers"] == ["frontend", "recommendations"]


def test_mtls_loosened_is_critical(shop: Path, capsys: Any) -> None:
    edit = replace("services:\n", "policy: {mtlsMode: PERMISSIVE}\nservices:\n")
    data = reviewed(shop, capsys, "mtls", "staging", edit)
    change = only(data, "mtls")
    assert (change["before"], change["after"], change["risk"]) == (
        "STRICT",
        "PERMISSIVE",
        "critical",
    )
    assert change["service"] is None and change["namespace"] == "istio-system"
    assert change["source"]["field"] == "policy.mtlsMode"


def test_a_new_caller_widens_authorization(shop: Path, capsys: Any) -> None:
    edit = replace(
        "calls: [catalog, cart, checkout, accounts, recommendations, reviews]",
        "calls: [catalog, cart, checkout, accounts, recommendations, reviews, payment]",
    )
    data = reviewed(shop, capsys, "authz", "prod", edit)
    change = only(data, "authorization")
    assert change["service"] == "payment" and change["risk"] == "critical"
    assert change["before"]["callers"] == ["checkout"]
    assert change["after"]["callers"] == ["checkout", "frontend"]
    assert change["blastRadius"]["callers"] == ["checkout", "frontend"]
    assert change["clusters"] == PROD
    # The new principal is traced to the `calls` entry that admits it (frontend's 7th).
    assert change["source"] == {
        "file": "environments/prod.yaml",
        "line": line("prod", "calls: [catalog, cart, checkout, accounts, recommendations"),
        "field": "services[0].calls[6]",
        "exact": False,
    }


def test_a_caller_taken_away_names_the_entry_at_the_base(shop: Path, capsys: Any) -> None:
    """The `calls` entry is gone at the head: its source is the base's file and line."""
    edit = replace(
        "calls: [catalog, cart, checkout, accounts, recommendations, reviews]",
        "calls: [catalog, cart, checkout, recommendations, reviews]",
    )
    change = only(reviewed(shop, capsys, "authz-taken", "prod", edit), "authorization")
    assert (change["service"], change["risk"]) == ("accounts", "high")
    assert "frontend" in change["before"]["callers"]
    assert "frontend" not in change["after"]["callers"]
    assert change["source"] == {
        "file": "environments/prod.yaml",
        "line": line("prod", "calls: [catalog, cart, checkout, accounts, recommendations"),
        "field": "services[0].calls[3]",
        "exact": False,
    }


def test_a_path_without_jwt_is_critical_exposure(shop: Path, capsys: Any) -> None:
    edit = replace('paths: ["/api/account/*", "/api/orders/*"]', 'paths: ["/api/account/*"]')
    data = reviewed(shop, capsys, "jwt", "prod", edit)
    change = only(data, "exposure")
    assert change["risk"] == "critical" and change["clusters"] == PROD
    assert change["before"] == {"jwtRequired": ["/api/account/*", "/api/orders/*"]}
    assert change["after"] == {"jwtRequired": ["/api/account/*"]}
    assert change["source"]["file"] == "environments/prod.yaml"


def test_a_new_public_route_is_exposure_with_its_host(shop: Path, capsys: Any) -> None:
    edit = replace(
        "    image: registry.example.com/shop/catalog:1.9.3\n",
        "    image: registry.example.com/shop/catalog:1.9.3\n    ingress: {path: /catalog}\n",
    )
    data = reviewed(shop, capsys, "expose", "prod", edit)
    exposed = [c for c in data["changes"] if c["kind"] == "exposure"]
    assert [c["service"] for c in exposed] == ["catalog"], json.dumps(data["changes"], indent=1)
    assert exposed[0]["before"] is None and exposed[0]["risk"] == "critical"
    assert exposed[0]["after"] == {
        "hosts": ["shop.example.com"],
        "paths": ["/catalog/*"],
        "jwtRequired": False,
    }
    assert exposed[0]["blastRadius"]["ingressHosts"] == ["shop.example.com"]


def test_an_ingress_certificate_change_is_high_exposure(shop: Path, capsys: Any) -> None:
    edit = replace("tlsSecret: shop-tls", "tlsSecret: shop-tls-2026")
    change = only(reviewed(shop, capsys, "cert", "prod", edit), "exposure")
    assert change["risk"] == "high" and change["clusters"] == PROD
    assert change["before"]["shop.example.com:443"]["certificates"] == ["shop-tls"]
    assert change["after"]["shop.example.com:443"]["certificates"] == ["shop-tls-2026"]
    assert change["source"]["field"] == "ingress.tlsSecret"


def test_a_sensitive_host_leaving_the_egress_gateway(shop: Path, capsys: Any) -> None:
    edit = replace(
        "{name: stripe, host: api.stripe.com, port: 443, protocol: TLS, sensitive: true}",
        "{name: stripe, host: api.stripe.com, port: 443, protocol: TLS}",
    )
    data = reviewed(shop, capsys, "egress", "prod", edit)
    egress = [c for c in data["changes"] if c["kind"] == "egress"]
    left = [c for c in egress if c["after"] == {"host": "api.stripe.com", "egressGateway": False}]
    assert left and left[0]["risk"] == "critical", json.dumps(data["changes"], indent=1)
    assert left[0]["blastRadius"]["callers"] == ["payment"]
    assert {c["kind"] for c in data["changes"]} <= {"egress", "other"}


def test_autoscaling_bounds(shop: Path, capsys: Any) -> None:
    edit = replace("autoscaling: {min: 4, max: 20,", "autoscaling: {min: 3, max: 20,")
    change = only(reviewed(shop, capsys, "hpa", "prod", edit), "autoscaling")
    assert change["service"] == "frontend" and change["risk"] == "high"
    assert (change["before"]["minReplicas"], change["after"]["minReplicas"]) == (4, 3)
    assert change["blastRadius"] == {"callers": [], "ingressHosts": ["shop.example.com"]}


def test_a_canary_control_plane_revision(shop: Path, capsys: Any) -> None:
    mesh = (
        "mesh:\n  revisions: [{name: 1-31, version: 1.31.4}, {name: canary, version: 1.31.4}]\n"
        "  revision: canary\n  gatewayRevision: 1-31\n"
    )
    edit = replace("services:\n", mesh + "services:\n")
    data = reviewed(shop, capsys, "revision", "dev", edit)
    revisions = [c for c in data["changes"] if c["kind"] == "revision"]
    assert revisions and {c["risk"] for c in revisions} == {"high"}, json.dumps(
        data["changes"], indent=1
    )
    assert any(c["before"] == "1-31" and c["after"] == "canary" for c in revisions)


def test_a_new_service_is_one_added_change(shop: Path, capsys: Any) -> None:
    wishlist = "  - name: wishlist\n    image: registry.example.com/shop/wishlist:0.1.0\n"
    edit = replace("  - name: accounts\n", wishlist + "  - name: accounts\n")
    data = reviewed(shop, capsys, "added", "prod", edit)
    added = only(data, "object-added")
    assert (
        added["service"] == "wishlist" and added["risk"] == "medium" and added["clusters"] == PROD
    )
    assert {"Deployment", "Service", "VirtualService"} <= {o["kind"] for o in added["objects"]}
    assert added["source"]["field"] == "services[8]"


def test_a_removed_service_is_critical(shop: Path, capsys: Any) -> None:
    def edit(text: str) -> str:
        start = text.index("  - name: notifications\n")
        return text[:start] + text[text.index("drift:\n") :]

    data = reviewed(shop, capsys, "removed", "prod", edit)
    removed = only(data, "object-removed")
    assert removed["service"] == "notifications" and removed["risk"] == "critical"
    assert removed["after"] is None and removed["clusters"] == PROD


def test_an_image_is_other_with_its_paths(shop: Path, capsys: Any) -> None:
    edit = replace("shop/cart:1.22.5", "shop/cart:1.22.6")
    change = only(reviewed(shop, capsys, "image", "prod", edit), "other")
    assert change["service"] == "cart" and change["risk"] == "medium"
    path = "/spec/template/spec/containers/0/image"
    assert change["before"] == {path: "registry.example.com/shop/cart:1.22.5"}
    assert change["objects"][0]["paths"] == [path]
    assert change["source"]["field"] == "services[4].image"


def test_a_teams_call_across_namespaces_names_the_teams_file(shop: Path, capsys: Any) -> None:
    edit = replace("calls: [search/query]", "calls: [search/query, shop/accounts]")
    name = branch(shop, "team", "prod", edit, team="payments")
    data = review(shop, capsys, "--base", "main", "--head", name)
    change = only(data, "authorization")
    assert (change["service"], change["namespace"], change["risk"]) == (
        "accounts",
        "shop",
        "critical",
    )
    assert "payments/fraud" in change["after"]["callers"]
    assert "payments/fraud" not in change["before"]["callers"]
    assert "payments/fraud" in change["blastRadius"]["callers"]
    # The principal is traced to the `calls` entry in the team's file that admits it.
    lines = (REPO / "environments/prod/payments.yaml").read_text().splitlines()
    assert change["source"]["file"] == "environments/prod/payments.yaml"
    assert change["source"]["field"] == "namespaces[0].services[1].calls[1]"
    assert lines[change["source"]["line"] - 1].strip().startswith("calls: [search/query")
    assert change["source"]["exact"] is False


def test_a_namespace_wide_mtls_change_reaches_the_namespace_s_callers(
    shop: Path, capsys: Any
) -> None:
    """A PeerAuthentication without a selector is about no one service: its blast radius is
    every caller and ingress host of the namespace's services."""
    edit = replace(
        "services:\n",
        "peerAuthentications: [{name: shop-legacy, mtls: {mode: PERMISSIVE}}]\nservices:\n",
    )
    data = reviewed(shop, capsys, "ns-mtls", "staging", edit)
    [change] = [c for c in data["changes"] if c["namespace"] == "shop" and c["service"] is None]
    assert change["clusters"] == ["staging-1"]
    # Every service of staging's shop that `calls` another, and the load test's Job (the
    # ALLOW policies admit them); the ingress gateway shows as the host, not as a caller.
    callers = change["blastRadius"]["callers"]
    expected = ["catalog", "checkout", "frontend", "meshops-load-test", "recommendations"]
    assert callers == expected, callers
    assert change["blastRadius"]["ingressHosts"] == ["staging.shop.example.com"]
    capsys.readouterr()
    argv = ["review", "--repo", str(shop), "--base", "main", "--head", "ns-mtls"]
    assert cli.main(argv) == 0
    assert "blast radius: the whole namespace shop: callers " in capsys.readouterr().out


def test_a_namespace_s_allow_nothing_removed_reaches_its_callers_at_the_base(
    shop: Path, capsys: Any
) -> None:
    edit = replace("services:\n", "policy: {authorization: false}\nservices:\n")
    data = reviewed(shop, capsys, "ns-authz", "staging", edit)
    wide = [c for c in data["changes"] if c["namespace"] == "shop" and c["service"] is None]
    assert [c["kind"] for c in wide] == ["authorization"], json.dumps(wide, indent=1)
    assert wide[0]["risk"] == "critical"  # an ALLOW-nothing policy removed
    # Who called into shop before the change (the policies are gone at the head).
    expected = ["catalog", "checkout", "frontend", "meshops-load-test", "recommendations"]
    assert wide[0]["blastRadius"]["callers"] == expected


def test_a_teams_timeout_names_the_line_in_the_teams_file(shop: Path, capsys: Any) -> None:
    name = branch(
        shop, "team-timeout", "prod", replace("timeout: 5s", "timeout: 4s"), team="payments"
    )
    change = only(review(shop, capsys, "--base", "main", "--head", name), "timeout")
    assert (change["service"], change["namespace"]) == ("ledger", "payments")
    assert change["source"]["file"] == "environments/prod/payments.yaml"
    lines = (REPO / "environments/prod/payments.yaml").read_text().splitlines()
    assert "timeout: 5s" in lines[change["source"]["line"] - 1]


# --- nothing spurious ---------------------------------------------------------------------

REFORMATTED = {
    "comment": replace("services:\n", "# reviewed by the platform team\nservices:\n"),
    "flow-to-block": replace(
        "      - {name: v1, weight: 90}\n", "      - name: v1\n        weight: 90\n"
    ),
    "reordered-keys": replace(
        "{name: shipengine, host: api.shipengine.com, port: 443, protocol: TLS}",
        "{protocol: TLS, port: 443, host: api.shipengine.com, name: shipengine}",
    ),
}


@pytest.mark.parametrize("how", sorted(REFORMATTED))
def test_an_edit_that_changes_no_object_reports_nothing(shop: Path, capsys: Any, how: str) -> None:
    data = reviewed(shop, capsys, f"same-{how}", "prod", REFORMATTED[how])
    assert data["changes"] == [] and data["summary"]["notes"] == []
    assert data["summary"]["changes"] == 0 and data["summary"]["risk"] is None


def test_an_edit_without_synth_is_rendered_and_said(shop: Path, capsys: Any) -> None:
    edit = replace("timeout: 20s", "timeout: 25s")
    name = branch(shop, "stale", "prod", edit, synthesise=False)
    data = review(shop, capsys, "--base", "main", "--head", name)
    change = only(data, "timeout")
    assert (change["service"], change["before"], change["after"]) == ("checkout", "20s", "25s")
    assert change["risk"] == "medium" and change["clusters"] == PROD
    [note] = data["summary"]["notes"]
    assert "dist/prod at " + name in note and "stale" in note and "rendered" in note


def test_a_comment_without_synth_needs_no_render(shop: Path, capsys: Any) -> None:
    edit = replace("services:\n", "# a comment\nservices:\n")
    name = branch(shop, "comment-only", "prod", edit, synthesise=False)
    data = review(shop, capsys, "--base", "main", "--head", name)
    assert data["changes"] == [] and data["summary"]["notes"] == []


# --- defaults, gate and formats -----------------------------------------------------------


def test_defaults_are_the_merge_base_and_the_working_tree(shop: Path, capsys: Any) -> None:
    _git(shop, "checkout", "-q", "-B", "work", "main")
    try:
        path = shop / "environments" / "prod.yaml"
        path.write_text(path.read_text().replace("timeout: 15s", "timeout: 16s"))
        synth.run(shop / "environments", shop / "dist", ["prod"])
        data = review(shop, capsys)
        assert data["base"] == {
            "ref": "merge-base(main)",
            "commit": _git(shop, "rev-parse", "main"),
        }
        assert data["head"] == {"ref": "working tree", "commit": None}
        change = only(data, "timeout")
        assert (change["service"], change["after"]) == ("payment", "16s")
        assert change["blastRadius"]["callers"] == ["checkout"]
    finally:
        _git(shop, "checkout", "-q", "-f", "main")
        _git(shop, "clean", "-qfd")


def test_fail_on_gates_by_risk(shop: Path, capsys: Any) -> None:
    name = branch(shop, "gate", "prod", replace("autoscaling: {min: 4,", "autoscaling: {min: 2,"))
    review(shop, capsys, "--base", "main", "--head", name, "--fail-on", "high", code=1)
    review(shop, capsys, "--base", "main", "--head", name, "--fail-on", "critical", code=0)
    review(shop, capsys, "--base", "main", "--head", name, code=0)


def test_markdown_is_a_pull_request_comment(shop: Path, capsys: Any) -> None:
    name = branch(
        shop,
        "comment",
        "prod",
        lambda t: t.replace("weight: 90}", "weight: 85}").replace("weight: 10,", "weight: 15,"),
    )
    capsys.readouterr()
    argv = ["review", "--repo", str(shop), "--base", "main", "--head", name, "--format", "markdown"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("**meshops review** `main`") and "1 change" in lines[0]
    assert "### prod" in lines and "<details>" in text and "</details>" in text
    row = next(line for line in lines if line.startswith("| medium |"))
    assert "reviews (shop)" in row and "traffic-shift" in row and "prod-east, prod-west" in row
    assert f"environments/prod.yaml:{line('prod', '{name: v1, weight: 90}')}" in row


# --- bad input: one line, exit 2 ------------------------------------------------------------


def _fails(repo: Path, capsys: Any, *args: str) -> str:
    capsys.readouterr()
    assert cli.main(["review", "--repo", str(repo), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_an_unknown_ref_is_bad_input(shop: Path, capsys: Any) -> None:
    line = _fails(shop, capsys, "--base", "no-such-branch", "--head", "main")
    assert "--base" in line and "no-such-branch" in line


def test_a_ref_without_dist_is_bad_input(shop: Path, capsys: Any) -> None:
    _git(shop, "checkout", "-q", "-B", "no-dist", "main")
    _git(shop, "rm", "-rq", "dist")
    _git(shop, "commit", "-qm", "no dist")
    _git(shop, "checkout", "-q", "main")
    line = _fails(shop, capsys, "--base", "main", "--head", "no-dist")
    assert "dist/" in line and "--head" in line and "no-dist" in line


def test_an_environment_missing_at_one_side_is_bad_input(shop: Path, capsys: Any) -> None:
    line = _fails(shop, capsys, "--base", "main", "--head", "main", "--env", "qa")
    assert "--env" in line and "'qa'" in line


def test_the_ci_workflow_runs_checks_and_review_with_real_options() -> None:
    """Every `meshops` line of the pull-request workflow parses with today's CLI."""
    workflow = yaml.safe_load((REPO / ".github/workflows/review.yml").read_text())
    runs = [s["run"] for s in workflow["jobs"]["review"]["steps"] if "run" in s]
    commands = [
        shlex.split(line.split(">", 1)[0].replace('"$BASE"', "origin/main"))[1:]
        for run in runs
        for line in run.splitlines()
        if line.strip().startswith("meshops ")
    ]
    assert {c[0] for c in commands} == {"synth", "validate", "review"}
    for argv in commands:
        cli.parser().parse_args(argv)  # exits 2 on an unknown option
    assert any("--fail-on" in c for c in commands)
    assert any(c[c.index("--format") + 1] == "markdown" for c in commands if "--format" in c)
    assert workflow["permissions"]["pull-requests"] == "write"
