"""The nightly CronJob of dist/prod/prod-east, run as it ships, in the image the Dockerfile builds.

One night, played once for the module: dist/prod/prod-east applied as Argo CD would, one
image changed by hand (`kubectl set image`), the Secrets the CronJob references created with
test values, then the CronJob's container run (tests/image/kubelet.py) with its own
ServiceAccount's token, user, read-only root and emptyDir. Its command line is read from
dist/ at run time, never restated here, so flags added to the job are run too. Each test
then checks one promise of the job against what the real servers received. A second night,
with one of the job's RoleBindings deleted, shows that the checks have teeth: the Job fails
and the refusal shows in the audit log.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py import apply, distdir, kubeapi
from charts_py.cluster import binaries, controlplane
from tests.image import kubelet
from tests.image.conftest import REPO, Received, start_pushgateway

ENV, CLUSTER = "prod", "prod-east"
"""prod sets every delivery: a Pushgateway, a webhook (Slack format) and proposals."""
DIST = REPO / "dist" / ENV / CLUSTER
RUN_TIMEOUT = 900.0
"""Well under the Job's activeDeadlineSeconds (1800); a cold jsii start in a proposal is slow."""
DESIGNED_REFUSALS = (
    "a cluster-wide LIST of a namespaced kind (Roles only: drift then LISTs each namespace)",
    "a server-side apply dry-run (read-only: the local verdict stands, `confirmedBy: local`)",
)


@dataclass
class Night:
    """What one run of the job left behind, on the servers and in its output."""

    exited: kubelet.Exited
    script: list[str]
    bare: Path
    posts: list[tuple[str, str, bytes]]
    """What the webhook receiver got during the run: (path, content type, body) per POST."""
    notify_url: str
    metrics: str
    """The Pushgateway's /metrics after the run."""
    credentials: str
    account: str
    events: list[dict[str, Any]]
    """The API server's audit events of the run's ServiceAccount."""
    snapshots: list[str]
    """The report.json files the run added to the snapshot branch."""
    branches: list[str]
    """The branches the run added to the repository."""
    edited: tuple[str, str, str]
    """The hand-edited Deployment's namespace and name, and the image set by hand."""

    def git(self, *args: str) -> str:
        return _git(self.bare, *args)

    def snapshot_report(self) -> dict[str, Any]:
        (path,) = self.snapshots
        report: dict[str, Any] = json.loads(self.git("show", f"meshops/snapshots:{path}"))
        return report


@dataclass
class Stage:
    """Everything a night needs, set up once for the module: servers, Secrets, the pod spec."""

    image: str
    node: kubelet.Node
    spec: dict[str, Any]
    namespace: str
    script: list[str]
    bare: Path
    received: Received
    notify_url: str
    credentials: str
    state_dir: Path
    edited: tuple[str, str, str]
    objects: list[dict[str, Any]]
    """dist/ENV/CLUSTER's objects, as applied."""

    def play(self, pod_name: str) -> Night:
        """One run of the job in a Pod called `pod_name`, and what it left behind."""
        gateway = urllib.parse.urlsplit(_flag(self.script, "--pushgateway"))
        assert gateway.hostname and gateway.port, f"{gateway.geturl()}: expected host:port"
        self.node.hosts[gateway.hostname] = "127.0.0.1"
        log = self.node.scratch / f"{pod_name}-pushgateway.log"
        pushgateway = start_pushgateway(gateway.port, log)
        before = (len(self.received.posts), _audit_lines(self.state_dir))
        snapshots, branches = _reports(self.bare), set(_branches(self.bare))
        pod = kubelet.create_pod(self.node, self.namespace, pod_name, self.spec)
        try:
            # Our build in place of dist's `image` (a registry this machine cannot reach).
            exited = kubelet.run(self.node, self.spec, pod, self.image, RUN_TIMEOUT)
            url = f"http://127.0.0.1:{gateway.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as answer:
                metrics = answer.read().decode()
        finally:
            pushgateway.terminate()
            pushgateway.wait(timeout=10)
        account = f"system:serviceaccount:{self.namespace}:{self.spec['serviceAccountName']}"
        events = _events(self.state_dir, account, skip=before[1])
        return Night(
            exited, self.script, self.bare, self.received.posts[before[0] :], self.notify_url,
            metrics, self.credentials, account, events,
            sorted(set(_reports(self.bare)) - set(snapshots)),
            sorted(set(_branches(self.bare)) - branches), self.edited,
        )  # fmt: skip


@pytest.fixture(scope="module")
def stage(
    image: str,
    control_plane: controlplane.LocalCluster,
    kube: kubeapi.Cluster,
    webhook: tuple[str, Received],
    git_host: tuple[Path, str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Stage:
    objects = [placed.obj for placed in distdir.read(DIST)]
    (cron_job,) = [o for o in objects if o["kind"] == "CronJob"]
    spec = kubelet.pod_from_cron_job(cron_job)
    (container,) = spec["containers"]
    apply.apply(kube, objects)
    edited = _hand_edit(control_plane, objects)

    root, git_url, credentials = git_host
    env = {e["name"]: e for e in container["env"]}
    bare = _serve(root, env["GIT_REVISION"]["value"])
    user, password = credentials.split(":", 1)
    notify_url = f"{webhook[0]}/hooks/{os.urandom(8).hex()}"  # a token in the path, as Slack's
    namespace = cron_job["metadata"]["namespace"]
    authed = git_url.replace("http://", f"http://{user}:{password}@") + f"/{bare.name}"
    _secrets(kube, namespace, container, {"GIT_URL": authed, "MESHOPS_NOTIFY_URL": notify_url})
    server = urllib.parse.urlsplit(control_plane.server)
    assert server.hostname and server.port
    state_dir = Path(control_plane.state_dir)
    node = kubelet.Node(
        kube, server.hostname, server.port, state_dir / "pki" / "ca.crt",
        tmp_path_factory.mktemp("nights"),
    )  # fmt: skip
    script = _words(container["command"][-1])
    return Stage(
        image, node, spec, namespace, script, bare, webhook[1], notify_url, credentials,
        state_dir, edited, objects,
    )  # fmt: skip


@pytest.fixture(scope="module")
def night(stage: Stage) -> Night:
    return stage.play("meshops-drift-night")


@pytest.fixture(scope="module")
def night_without_a_role(stage: Stage, night: Night, kube: kubeapi.Cluster) -> Iterator[Night]:
    """The next night, with the job's RoleBinding in the hand-edited Deployment's namespace
    deleted (after `night`, and put back after)."""
    namespace = stage.edited[0]
    (binding,) = [
        o
        for o in stage.objects
        if o["kind"] == "RoleBinding" and o["metadata"]["namespace"] == namespace
    ]
    path = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings"
    kube.request("DELETE", f"{path}/{binding['metadata']['name']}")
    try:
        yield stage.play("meshops-drift-night-2")
    finally:
        apply.apply(kube, [binding])


def _hand_edit(
    control_plane: controlplane.LocalCluster, objects: list[dict[str, Any]]
) -> tuple[str, str, str]:
    """`kubectl set image` (field manager kubectl-set), a hotfix, on the first Deployment of
    the platform's namespace, so that the proposal edits the environment file itself (a
    team's Deployment would be adopted into environments/<env>/<team>.yaml)."""
    platform = yaml.safe_load((REPO / "environments" / f"{ENV}.yaml").read_text())["namespace"]
    deployment = min(
        (o for o in objects if o["kind"] == "Deployment"),
        key=lambda o: (o["metadata"]["namespace"] != platform, o["metadata"]["name"]),
    )
    meta = deployment["metadata"]
    first = deployment["spec"]["template"]["spec"]["containers"][0]
    hotfix = first["image"].rsplit(":", 1)[0] + ":hotfix-night"
    subprocess.run(
        [str(binaries.locate() / "kubectl"), "--kubeconfig", control_plane.kubeconfig,
         "-n", meta["namespace"], "set", "image", f"deployment/{meta['name']}",
         f"{first['name']}={hotfix}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return meta["namespace"], meta["name"], hotfix


def _serve(root: Path, branch: str) -> Path:
    """A bare repository holding this checkout's dist/ and environments/ on `branch`."""
    work = root.parent / "work"
    work.mkdir()
    for folder in ("dist", "environments"):
        shutil.copytree(REPO / folder, work / folder)
    git = ["git", "-c", "user.name=image-tier", "-c", "user.email=image-tier@localhost"]
    subprocess.run([*git, "-C", str(work), "init", "-q", "-b", branch], check=True)
    subprocess.run([*git, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "-m", "dist as generated"], check=True)
    bare = root / "meshops.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


def _secrets(
    kube: kubeapi.Cluster, namespace: str, container: dict[str, Any], values: dict[str, str]
) -> None:
    """Every Secret the container references, holding the test value of each variable it
    feeds (`values`, by variable name); a reference without a test value fails the run."""
    data: dict[str, dict[str, str]] = {}
    for source in container.get("envFrom", []):
        data.setdefault(source["secretRef"]["name"], {})["GIT_URL"] = values["GIT_URL"]
    for item in container.get("env", []):
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            if item["name"] not in values:
                pytest.fail(f"env {item['name']} (Secret {ref['name']}): no test value")
            data.setdefault(ref["name"], {})[ref["key"]] = values[item["name"]]
    for name, pairs in data.items():
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in pairs.items()}
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": name, "namespace": namespace}, "data": encoded}  # fmt: skip
        kube.apply(secret, field_manager="image-tier")


def _words(script: str) -> list[str]:
    """The shell script's words, as sh splits them (`;` and `&&` are words of their own)."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _flag(script: list[str], name: str) -> str:
    """The value following `name` in the job's command line."""
    assert name in script, f"{name} not in the CronJob's command line: {shlex.join(script)}"
    return script[script.index(name) + 1]


def _audit_lines(state_dir: Path) -> int:
    return len(controlplane.audit_log(state_dir).read_text().splitlines())


def _events(state_dir: Path, user: str, skip: int) -> list[dict[str, Any]]:
    """`user`'s audit events, after the first `skip` lines of the log."""
    lines = controlplane.audit_log(state_dir).read_text().splitlines()[skip:]
    events = [json.loads(line) for line in lines if line.strip()]
    return [e for e in events if e["user"]["username"] == user]


def _git(bare: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "--git-dir", str(bare), *args],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout


def _reports(bare: Path) -> list[str]:
    """The report.json files of ENV/CLUSTER on the snapshot branch (none before the first)."""
    if not _git(bare, "branch", "--list", "meshops/snapshots").strip():
        return []
    paths = _git(bare, "ls-tree", "-r", "--name-only", "meshops/snapshots").split()
    return [p for p in paths if p.startswith(f"{ENV}/{CLUSTER}/") and p.endswith("/report.json")]


def _branches(bare: Path) -> list[str]:
    return _git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def test_the_job_completes_with_the_drift_verdict(night: Night) -> None:
    """Drift found is `meshops drift` exit 1, which the job's script maps to success (0 and 1
    succeed, 2 fails); the Markdown report is in the job's log."""
    namespace, name, hotfix = night.edited
    assert night.exited.code == 0, night.exited.stderr[-3000:]
    assert "**Drift found: 1 of " in night.exited.stdout, night.exited.stderr[-3000:]
    assert f"`Deployment` {namespace}/{name}" in night.exited.stdout
    assert hotfix in night.exited.stdout


def test_the_snapshot_is_pushed_to_the_git_server(night: Night) -> None:
    report = night.snapshot_report()
    assert report["complete"] is True
    (edited,) = [r for r in report["resources"] if r["status"] != "in-sync"]
    assert (edited["kind"], edited["namespace"], edited["name"]) == (
        "Deployment",
        *night.edited[:2],
    )
    (difference,) = edited["differences"]
    assert difference["path"] == "/spec/template/spec/containers/0/image"
    assert (difference["live"], difference["manager"]) == (night.edited[2], "kubectl-set")


def test_the_proposal_branch_is_pushed_where_configured(night: Night) -> None:
    prefix = _flag(night.script, "--propose-branch")
    proposal = night.snapshot_report()["proposal"]
    new = [b for b in night.branches if b != "meshops/snapshots"]
    assert len(new) == 1, f"{proposal}\n{night.branches}\n{night.exited.stdout[-3000:]}"
    (branch,) = new
    assert branch.startswith(f"{prefix}/{ENV}/{CLUSTER}/")
    assert night.edited[2] in night.git("show", f"{branch}:environments/{ENV}.yaml")
    assert proposal["branch"] == branch


def test_the_webhook_is_delivered(night: Night) -> None:
    (post,) = night.posts
    path, content_type, body = post
    assert path == urllib.parse.urlsplit(night.notify_url).path
    assert content_type.startswith("application/json")
    message = json.loads(body)
    if _flag(night.script, "--notify-format") == "slack":
        assert {"text", "blocks"} <= set(message)
    assert night.edited[1] in body.decode()


def test_the_metrics_are_pushed_to_the_pushgateway(night: Night) -> None:
    assert _gauge(night.metrics, "meshops_drift_complete") == 1
    assert _gauge(night.metrics, "meshops_drift_objects", status="modified", severity="high") == 1


def _gauge(metrics: str, name: str, **wanted: str) -> float:
    """The value of `name` in ENV/CLUSTER's group with labels `wanted`, from /metrics."""
    wanted = {"job": "meshops-drift", "env": ENV, "cluster": CLUSTER, **wanted}
    for line in metrics.splitlines():
        labels = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if labels and all(
            f'{k}="{v}"' in re.findall(r'\w+="[^"]*"', labels[1]) for k, v in wanted.items()
        ):
            return float(labels[2])
    raise AssertionError(f"{name} {wanted} not on the Pushgateway:\n{metrics}")


def test_it_needs_no_permission_beyond_its_roles(night: Night) -> None:
    """The run checked everything (complete) with the ServiceAccount's token, and the API
    server refused it only what drift is designed to try and do without."""
    assert night.events, f"no request by {night.account}: the token was not used"
    refused = [e for e in night.events if e["responseStatus"]["code"] == 403]
    undesigned = [
        f"{e['verb']} {e['requestURI']}"
        for e in refused
        if not (_cluster_wide_list(e) or "dryRun=All" in e["requestURI"])
    ]
    assert not undesigned, f"refused beyond {DESIGNED_REFUSALS}: {undesigned}"
    # RBAC is enforced (no AlwaysAllow): what the Roles do not grant was refused.
    assert any(_cluster_wide_list(e) for e in refused)
    assert {e["verb"] for e in night.events if e["responseStatus"]["code"] < 400} <= {
        "get", "list", "watch",
    }  # fmt: skip
    assert night.snapshot_report()["complete"] is True


def _cluster_wide_list(event: dict[str, Any]) -> bool:
    return event["verb"] == "list" and "namespace" not in event.get("objectRef", {})


def test_no_secret_reaches_the_output_or_the_snapshot(night: Night) -> None:
    password = night.credentials.split(":", 1)[1]
    token = urllib.parse.urlsplit(night.notify_url).path.rsplit("/", 1)[1]
    for secret in (password, token):
        assert secret not in night.exited.stdout + night.exited.stderr
        found = subprocess.run(
            ["git", "--git-dir", str(night.bare), "grep", "-I", "-F", "-l", "-e", secret,
             "meshops/snapshots", "--"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert found.returncode == 1, f"a Secret value in the snapshot: {found.stdout}"


def test_without_one_of_its_roles_the_night_fails_and_says_why(night_without_a_role: Night) -> None:
    """The same job missing one RoleBinding: it cannot check that namespace, so the Job fails
    (`meshops drift` exit 2), the log and the Pushgateway say incomplete, and the audit check
    of the first night would have seen the refusal (it is no designed one)."""
    failed = night_without_a_role
    assert failed.exited.code != 0
    assert "**INCOMPLETE: could not check " in failed.exited.stdout, failed.exited.stderr[-3000:]
    assert _gauge(failed.metrics, "meshops_drift_complete") == 0
    namespace = failed.edited[0]
    assert [
        e
        for e in failed.events
        if e["responseStatus"]["code"] == 403
        and e.get("objectRef", {}).get("namespace") == namespace
        and "dryRun=All" not in e["requestURI"]
    ]
