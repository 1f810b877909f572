"""Load tests (practice 13): one bounded fortio Job per `loadTests:` entry, plus its identity.

The Jobs are plain objects synced like everything else, not Argo CD hooks: hooks are not
tracked, so drift could not see them. A plain Job runs once when it first appears and then
stays, completed, matching git. Hence no `ttlSecondsAfterFinished`: the TTL controller would
delete the finished Job, Argo CD would re-create it, and the test would run again on every
sync. A Job's pod template is immutable, so changing a load test means giving it a new name
(the old Job is pruned, the new one runs).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config.environment import Environment
from charts_py.config.model import LoadTest, seconds
from charts_py.constructs.objects import emit

FORTIO_IMAGE = "fortio/fortio:1.69.5"
"""Pinned by tag: a load test must mean the same thing next month."""
DEADLINE_MARGIN_SECONDS = 120
"""Beyond the test's own duration: image pull, proxy start-up, connection set-up."""
LOAD_TEST_LABEL = "meshops.dev/load-test"


class LoadTests(Construct):
    """A ServiceAccount whose principal the targets admit, and one Job per load test."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, "load-tests")
        ns = env.spec.namespace
        account = {"automountServiceAccountToken": False}
        emit(self, kinds.SERVICE_ACCOUNT, naming.LOAD_TEST_ACCOUNT, account, namespace=ns)
        for test in env.spec.load_tests:
            spec = job_spec(env, test)
            labels = {LOAD_TEST_LABEL: test.name}
            emit(self, kinds.JOB, test.name, {"spec": spec}, namespace=ns, labels=labels)


def job_spec(env: Environment, test: LoadTest) -> dict[str, Any]:
    """Run once (no retries), never longer than the test plus a margin."""
    labels = {"app": naming.LOAD_TEST_ACCOUNT, LOAD_TEST_LABEL: test.name}
    pod = {
        "metadata": {
            "labels": labels,
            # A native sidecar (an init container that restarts) stops when fortio exits; a
            # classic sidecar would keep the pod, and so the Job, running until the deadline.
            "annotations": {"sidecar.istio.io/nativeSidecar": "true"},
        },
        "spec": {
            "serviceAccountName": naming.LOAD_TEST_ACCOUNT,
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [_fortio(env, test)],
        },
    }
    deadline = int(seconds(test.duration)) + DEADLINE_MARGIN_SECONDS
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": env.traced(test).duration.transformed(deadline),
        "template": pod,
    }


def target_url(env: Environment, test: LoadTest) -> str:
    """The target's in-mesh URL, so the request passes its sidecar, routes and policies."""
    service = next(s for s in env.spec.services if s.name == test.target)  # the platform's
    return f"http://{naming.fqdn(service.name, env.spec.namespace)}:{service.port}{test.path}"


def _fortio(env: Environment, test: LoadTest) -> dict[str, Any]:
    # `-json -` puts the result on stdout, next to the text summary: `kubectl logs job/<name>`
    # shows it after the pod is gone (a file would vanish with the pod).
    traced = env.traced(test)
    qps = traced.qps.transformed(str(test.qps))
    duration = traced.duration.traced()
    connections = traced.connections.transformed(str(test.connections))
    args = ["load", "-qps", qps, "-t", duration, "-c", connections]
    return {
        "name": "fortio",
        "image": FORTIO_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [*args, "-json", "-", target_url(env, test)],
        "resources": {
            "requests": {"cpu": "250m", "memory": "64Mi"},
            "limits": {"cpu": "1", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
