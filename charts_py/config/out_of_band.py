"""Objects the mesh depends on that dist/ does not contain: declared here, not guessed.

meshops's manifests reference things that other tools create: the gateway workloads and
Services deployed by Istio's own Helm charts, istiod, the ingress TLS Secret (created by
cert-manager or by hand: Secrets never go to git), and the remote secrets that let each
primary read the others' API servers. `meshops validate` consults this list wherever a rule
looks for a referenced object (a Gateway's workloads, a credentialName, a host).

To extend it, add an `External` to ISTIO_INSTALLATION (the same in every cluster) or to
for_environment() (named by the environment file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from charts_py.config.environment import Environment

ROOT = "istio-system"


@dataclass(frozen=True)
class Port:
    """A Service port and the container port it forwards to."""

    port: int
    target_port: int
    name: str


@dataclass(frozen=True)
class External:
    """One object present in the cluster but not in dist/ (made by Istio's charts, or by hand)."""

    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """Pod labels, for workloads; a Gateway's selector matches these."""
    ports: tuple[Port, ...] = ()
    """Service ports, for the Service in front of a workload (same name as the workload)."""

    @property
    def host(self) -> str:
        """The in-cluster host name of a Service."""
        return f"{self.name}.{self.namespace}.svc.cluster.local"


_STATUS = Port(15021, 15021, "status-port")


def _gateway(name: str, ports: tuple[Port, ...]) -> tuple[External, External]:
    """A gateway Deployment and its Service as the chart renders them: the `istio` label is the
    release name without its `istio-` prefix, the Service has the release name."""
    labels = {"app": name, "istio": name.removeprefix("istio-")}
    return (
        External("Deployment", ROOT, name, labels),
        External("Service", ROOT, name, labels, ports),
    )


ISTIO_INSTALLATION: tuple[External, ...] = (
    *_gateway(
        "istio-ingressgateway",
        (_STATUS, Port(80, 80, "http2"), Port(443, 443, "https")),
    ),
    *_gateway(
        "istio-egressgateway",
        (_STATUS, Port(80, 80, "http2"), Port(443, 443, "https")),
    ),
    *_gateway(
        "istio-eastwestgateway",
        (
            _STATUS,
            Port(15443, 15443, "tls"),
            Port(15012, 15012, "tls-istiod"),
            Port(15017, 15017, "tls-webhook"),
        ),
    ),
    External(
        "Service",
        ROOT,
        "istiod",
        {"app": "istiod", "istio": "pilot"},
        (
            Port(15010, 15010, "grpc-xds"),
            Port(15012, 15012, "https-dns"),
            Port(443, 15017, "https-webhook"),
            Port(15014, 15014, "http-monitoring"),
        ),
    ),
)
"""What every cluster's Istio installation provides, whatever the environment."""


def for_environment(env: Environment | None) -> tuple[External, ...]:
    """Everything out of band in the clusters of `env` (None: manifests of no environment)."""
    if env is None:
        return ISTIO_INSTALLATION
    named: list[External] = [
        External(
            "Secret",
            ROOT,
            env.spec.ingress.tls_secret,  # cert-manager's or the operator's, never in git
        )
    ]
    if env.multi_cluster:
        named += [
            External(
                "Secret",
                ROOT,
                f"istio-remote-secret-{cluster.name}",  # `istioctl create-remote-secret`
            )
            for cluster in env.spec.clusters
        ]
    return (*ISTIO_INSTALLATION, *named)
