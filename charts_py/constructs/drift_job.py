"""The nightly drift job in each cluster: read-only identity, a CronJob, its namespace."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any

from constructs import Construct

from charts_py import kinds, naming
from charts_py.config import ambient, istio_checks
from charts_py.config.environment import Environment
from charts_py.config.model import Cluster, Drift
from charts_py.constructs import metrics_adapter
from charts_py.constructs.baseline import KEEP
from charts_py.constructs.objects import emit

NAMESPACE = naming.DRIFT_NAMESPACE
NAME = "meshops-drift"
GIT_SECRET = "meshops-drift-git"
"""Created out of band: GIT_URL with credentials to clone and push the snapshot branch."""
MEMORY_LIMIT = "512Mi"
"""The job's memory limit; scripts/bench_drift_busy.py measures drift's peak against it."""
PROPOSING_MEMORY_LIMIT = "1Gi"
"""With `drift.propose`: the proposal renders the environment, on Node beside Python."""
REPORT = "/work/drift-report.md"
"""Where the job writes the Markdown report (then prints it to the pod's log)."""
NOTIFY_ENV = "MESHOPS_NOTIFY_URL"
"""The webhook URL, from the Secret `drift.notify.secretRef` names (`--notify-from-env`)."""


class DriftJob(Construct):
    """`meshops drift --snapshot` every night, with get/list/watch on what meshops manages:
    Roles in the managed namespaces, a ClusterRole only for cluster-scoped kinds."""

    def __init__(self, scope: Construct, *, env: Environment, cluster: Cluster) -> None:
        super().__init__(scope, "drift-job")
        emit(
            self,
            kinds.NAMESPACE,
            NAMESPACE,
            annotations=KEEP,
            labels={"istio-injection": "disabled"},
        )
        emit(self, kinds.SERVICE_ACCOUNT, NAME, namespace=NAMESPACE)
        emit(self, kinds.CLUSTER_ROLE, NAME, {"rules": cluster_rules()})
        emit(self, kinds.CLUSTER_ROLE_BINDING, NAME, _binding("ClusterRole"))
        for namespace in managed_namespaces(env):
            reader = Construct(self, f"read-{namespace}")
            emit(reader, kinds.ROLE, NAME, {"rules": namespaced_rules(env)}, namespace=namespace)
            emit(reader, kinds.ROLE_BINDING, NAME, _binding("Role"), namespace=namespace)
        emit(self, kinds.CRON_JOB, NAME, {"spec": _cron_job(env, cluster)}, namespace=NAMESPACE)


def managed_namespaces(env: Environment) -> list[str]:
    """Every namespace a cluster's dist/ puts objects in: drift LISTs only these, so the
    job may read only these, and the Argo CD project admits exactly these (a unit test
    holds it to dist/)."""
    adapter = {naming.ADAPTER_NAMESPACE} if metrics_adapter.used_metrics(env) else set()
    apps = {ns.name for ns in env.namespaces}
    return sorted(apps | _mesh_root(env) | {NAMESPACE} | adapter)


def _mesh_root(env: Environment) -> set[str]:
    """Istio's root namespace, where meshops puts the control plane's objects and the
    mesh-wide PeerAuthentication and Telemetry; none of them when the control plane is
    installed out of band and the policy adds neither (an adopted mesh)."""
    mesh_wide = env.mesh.managed or env.policy.mtls_mode or env.policy.telemetry
    return {naming.MESH_ROOT} if mesh_wide else set()


def _binding(role_kind: str) -> dict[str, Any]:
    return {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
    }


def namespaced_rules(env: Environment | None = None) -> list[dict[str, Any]]:
    """get/list/watch on the namespaced kinds meshops emits (those of `env`'s extensions and
    Gateway API kinds too), for a Role in each managed namespace; no Secrets, nothing
    in namespaces meshops does not use."""
    used = istio_checks.extension_kinds(env.extensions, env.services) if env else ()
    gateway_api = ambient.gateway_api_kinds(env) if env else ()
    emitted = dict.fromkeys((*kinds.MESH_KINDS, *used, *gateway_api))  # each kind once
    return _rules(k for k in emitted if k.namespaced)


def cluster_rules() -> list[dict[str, Any]]:
    """get/list/watch on the cluster-scoped kinds meshops emits (drift reads them by label
    and by name): the ClusterRole holds nothing namespaced."""
    return _rules(k for k in kinds.MESH_KINDS if not k.namespaced)


def _rules(selected: Iterable[kinds.Kind]) -> list[dict[str, Any]]:
    groups: dict[str, set[str]] = {}
    for kind in selected:
        groups.setdefault(kind.group, set()).add(kind.resource)
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": ["get", "list", "watch"]}
        for group, resources in sorted(groups.items())
    ]


def drift_argv(env: Environment, cluster: Cluster) -> list[str]:
    """The nightly `meshops drift` command line: snapshot pushed, Markdown report to REPORT,
    delivered where the environment says. The webhook URL stays in the NOTIFY_ENV variable
    (from the Secret), out of dist and of the process args. A unit test parses this with the
    CLI's own parser, so a renamed flag fails there, not in the cluster at night."""
    drift = env.spec.drift
    argv = ["meshops", "drift", "--env", env.name, "--cluster", cluster.name]
    argv += ["--snapshot", "--push", "origin", "--format", "markdown", "--output", REPORT]
    if drift.pushgateway:
        argv += ["--pushgateway", drift.pushgateway]
    if drift.notify:
        argv += ["--notify-from-env", NOTIFY_ENV, "--notify-format", drift.notify.format]
        if drift.digest:
            argv += ["--digest-weekday", drift.digest.weekday]
    if drift.propose and drift.propose.adopt:
        argv += ["--propose-branch", drift.propose.branch_prefix]
    return argv


def _env(env: Environment) -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = [{"name": "GIT_REVISION", "value": env.spec.argocd.revision}]
    notify = env.spec.drift.notify
    if notify:
        ref = {"name": notify.secret_ref.name, "key": notify.secret_ref.key}
        variables.append({"name": NOTIFY_ENV, "valueFrom": {"secretKeyRef": ref}})
    return variables


def _resources(drift: Drift) -> dict[str, Any]:
    """A proposal also renders the environment (jsii runs a Node process beside Python), so a
    job that proposes gets more memory headroom."""
    proposes = drift.propose is not None and drift.propose.adopt
    return {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": PROPOSING_MEMORY_LIMIT if proposes else MEMORY_LIMIT},
    }


def _cron_job(env: Environment, cluster: Cluster) -> dict[str, Any]:
    drift = env.spec.drift
    script = (
        'git clone --quiet --branch "$GIT_REVISION" "$GIT_URL" /work/repo && cd /work/repo && '
        f"{shlex.join(drift_argv(env, cluster))}; code=$?; "
        f'cat {REPORT}; [ "$code" -le 1 ]'
    )
    container = {
        "name": "drift",
        "image": env.traced(drift).image.traced(),
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", script],
        "env": _env(env),
        "envFrom": [{"secretRef": {"name": GIT_SECRET}}],
        "resources": _resources(drift),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "work", "mountPath": "/work"}],
    }
    pod = {
        "serviceAccountName": NAME,
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "work", "emptyDir": {}}],
    }
    return {
        "schedule": env.traced(drift).schedule.traced(),
        "concurrencyPolicy": "Forbid",
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 3,
        "jobTemplate": {
            "spec": {"backoffLimit": 1, "activeDeadlineSeconds": 1800, "template": {"spec": pod}}
        },
    }
