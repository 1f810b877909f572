"""`meshops propose` on a real control plane: the classic hotfixes made by hand (field
managers kubectl-patch, kubectl-edit, kubectl-set), adopted into environments/staging.yaml,
synthesised, applied as Argo CD would; drift is then clean and the file kept its comments.
And a keep-on-sync addition reverted with the command the plan gives, run with real kubectl.

The module starts a control plane of its own: it applies the whole staging-1 folder, whose
namespaces and names (`shop/reviews`) other modules' tests may use on the shared one.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from charts_py import apply, cli, distdir, kubeapi, provenance
from charts_py.cluster import binaries, controlplane
from charts_py.drift import run
from charts_py.drift.model import Report

REPO = Path(__file__).resolve().parents[2]
ENV, CLUSTER = "staging", "staging-1"


@dataclass
class Deployed:
    repo: Path
    kube: kubeapi.Cluster
    kubeconfig: str
    kubectl_bin: Path
    env: str = ENV
    cluster: str = CLUSTER

    def kubectl(self, *args: str, editor: str | None = None) -> str:
        env = {**os.environ, "KUBE_EDITOR": editor} if editor else None
        done = subprocess.run(
            [str(self.kubectl_bin), "--kubeconfig", self.kubeconfig, *args],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def git(self, *args: str) -> str:
        ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        done = subprocess.run(["git", "-C", str(self.repo), *ident, *args], capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def sync(self) -> None:
        """What Argo CD does: server-side apply of git's folder with its field manager."""
        folder = distdir.cluster_dir(self.repo / "dist", self.env, self.cluster)
        apply.apply(self.kube, [p.obj for p in distdir.read(folder)])

    def drift(self) -> Report:
        options = run.Options(
            env=self.env, cluster=self.cluster, repo=self.repo, kubeconfig=self.kubeconfig
        )
        return run.run(options)[0]

    def propose(self, capsys: pytest.CaptureFixture[str], *args: str) -> str:
        code = cli.main(["propose", "--env", self.env, "--cluster", self.cluster,
                         "--repo", str(self.repo), "--kubeconfig", self.kubeconfig,
                         *args])  # fmt: skip
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out


def _deployed(factory: pytest.TempPathFactory, env: str, cluster: str) -> Iterator[Deployed]:
    """A control plane of its own holding `env`/`cluster` as generated, and its repository."""
    state = factory.mktemp("propose-control-plane")
    plane = controlplane.up(state)
    try:
        repo = factory.mktemp("propose") / "repo"
        repo.mkdir()
        for folder in ("environments", "dist"):
            shutil.copytree(REPO / folder, repo / folder)
        where = Deployed(repo, kubeapi.Cluster.connect(plane.kubeconfig), plane.kubeconfig,
                         binaries.locate() / "kubectl", env, cluster)  # fmt: skip
        where.git("init", "-q", "-b", "main")
        where.git("add", "-A")
        where.git("commit", "-qm", f"{env} as generated")
        where.sync()
        yield where
    finally:
        controlplane.down(state)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    yield from _deployed(tmp_path_factory, ENV, CLUSTER)


@pytest.fixture
def prod_east(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """prod-east, where two teams share the cluster, each in its own file."""
    yield from _deployed(tmp_path_factory, "prod", "prod-east")


def _patch(d: Deployed, resource: str, name: str, namespace: str, ops: list[object]) -> None:
    d.kubectl("patch", resource, name, "-n", namespace, "--type=json", "-p", json.dumps(ops))


def _replace(path: str, value: object) -> list[object]:
    return [{"op": "replace", "path": path, "value": value}]


def _hotfixes(d: Deployed) -> None:
    """The night's hand edits, one per classic hotfix, by three different field managers."""
    vs, dr = "virtualservice.networking.istio.io", "destinationrule.networking.istio.io"
    _patch(d, vs, "catalog", "shop", _replace("/spec/http/0/timeout", "7s"))  # route timeout
    _patch(d, vs, "shipping", "shop", _replace("/spec/http/0/retries/attempts", 1))  # retries
    weights = [{"op": "replace", "path": f"/spec/http/1/route/{i}/weight", "value": w}
               for i, w in ((0, 80), (1, 20))]  # fmt: skip
    _patch(d, vs, "reviews", "shop", weights)  # canary weights, on the default route (http/1)
    d.kubectl("set", "image", "-n", "shop", "deployment/cart-v1",  # image tag
              "cart=registry.example.com/shop/cart:1.22.6-hotfix")  # fmt: skip
    d.kubectl("set", "resources", "-n", "shop", "deployment/cart-v1", "--requests=cpu=300m")
    _patch(d, "horizontalpodautoscaler.autoscaling", "catalog-v1", "shop",  # HPA bounds
           _replace("/spec/minReplicas", 3) + _replace("/spec/maxReplicas", 8))  # fmt: skip
    d.kubectl("edit", "-n", "istio-system", "peerauthentication.security.istio.io", "default",
              editor="sed -i s/STRICT/PERMISSIVE/")  # mTLS mode, by kubectl-edit  # fmt: skip
    _patch(d, "telemetry.telemetry.istio.io", "mesh-default", "istio-system",  # sampling
           _replace("/spec/tracing/0/randomSamplingPercentage", 20))  # fmt: skip
    _patch(d, dr, "cart", "shop",  # outlier thresholds
           _replace("/spec/trafficPolicy/outlierDetection/consecutive5xxErrors", 7))  # fmt: skip


HOTFIX_FIELDS = [
    "services[1].timeout",
    "services[7].retries.attempts",
    "services[2].versions[0].weight",
    "services[2].versions[1].weight",
    "services[4].image",
    "services[4].resources.cpu",
    "services[1].autoscaling.min",
    "services[1].autoscaling.max",
    "policy.mtlsMode",
    "policy.tracingSampling",
    "services[4].outlierDetection.consecutive5xxErrors",
]


def test_hotfixes_adopted_synthesised_applied_are_in_sync(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (deployed.repo / "environments" / "staging.yaml").read_text()
    _hotfixes(deployed)
    found = deployed.drift()
    assert found.drifted and found.complete
    plan = json.loads(deployed.propose(capsys, "--adopt", "--format", "json"))
    assert plan["cannotAdopt"] == []
    assert sorted(a["field"] for a in plan["adopted"]) == sorted(HOTFIX_FIELDS)
    managers = {a["manager"] for a in plan["adopted"]}
    assert {"kubectl-patch", "kubectl-edit", "kubectl-set"} <= managers
    after = (deployed.repo / "environments" / "staging.yaml").read_text()
    comments = [line for line in before.splitlines() if "#" in line]
    assert comments and comments == [line for line in after.splitlines() if "#" in line]
    deployed.git("commit", "-qam", "adopt the night's hotfixes")
    deployed.sync()
    report = deployed.drift()
    assert report.complete and not report.drifted, [
        (str(r.ref), [d.path for d in r.differences]) for r in report.results if r.differences
    ]


def test_a_hand_added_env_var_is_kept_by_sync_and_removed_by_the_given_command(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.sync()
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "payment", "env": [{"name": "DEBUG", "value": "it's on"}]}]}}}}  # fmt: skip
    deployed.kubectl("patch", "-n", "shop", "deployment", "payment-v1", "-p", json.dumps(patch))
    plan = json.loads(deployed.propose(capsys, "--revert", "--format", "json"))
    [step] = [r for r in plan["reverts"] if r["name"] == "payment-v1"]
    assert step["bySync"] is False and "will NOT remove it: kubectl-patch owns" in step["how"]
    deployed.sync()  # what Argo CD would do: the env var stays
    assert "DEBUG" in deployed.kubectl(
        "get", "-n", "shop", "deployment", "payment-v1", "-o", "json"
    )
    argv = shlex.split(step["command"])
    assert argv[0] == "kubectl"
    deployed.kubectl(*argv[1:])
    assert "DEBUG" not in deployed.kubectl(
        "get", "-n", "shop", "deployment", "payment-v1", "-o", "json"
    )
    report = deployed.drift()
    assert report.complete and not report.drifted


def test_hotfixes_in_team_namespaces_are_adopted_into_the_teams_files(
    prod_east: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand edits in two teams' namespaces: drift names each team file's line, propose
    adopts each into its team's file, and after a sync of the re-synthesised folder drift is
    clean."""
    d = prod_east
    vs = "virtualservice.networking.istio.io"
    _patch(d, vs, "ledger", "payments", _replace("/spec/http/0/timeout", "8s"))
    d.kubectl("set", "image", "-n", "search", "deployment/query-v1",
              "query=registry.example.com/search/query:4.0.2-hotfix")  # fmt: skip
    found = d.drift()
    sources = {
        (r.ref.namespace, diff.path): diff.source for r in found.results for diff in r.differences
    }
    ledger = sources[("payments", "/spec/http/0/timeout")]
    payments = (d.repo / "environments/prod/payments.yaml").read_text().splitlines()
    assert isinstance(ledger, provenance.EnvField) and ledger.line is not None
    assert ledger.file == "environments/prod/payments.yaml"
    assert payments[ledger.line - 1].strip() == "timeout: 5s"
    plan = json.loads(d.propose(capsys, "--adopt", "--format", "json"))
    assert plan["cannotAdopt"] == []
    assert sorted((a["file"], a["field"]) for a in plan["adopted"]) == [
        ("environments/prod/payments.yaml", "namespaces[0].services[0].timeout"),
        ("environments/prod/search.yaml", "namespaces[0].services[0].image"),
    ]
    d.git("commit", "-qam", "adopt the teams' hotfixes")
    d.sync()
    report = d.drift()
    assert report.complete and not report.drifted, [
        (str(r.ref), [x.path for x in r.differences]) for r in report.results if r.differences
    ]
