"""Mesh rules, one module per concern; importing this package registers every check."""

from charts_py.validate.rules import (  # noqa: F401  (imported to register their checks)
    ambient,
    argocd,
    control_plane,
    drift,
    egress,
    estate,
    gateways,
    hygiene,
    metrics,
    monitoring,
    resilience,
    routing,
    security,
    workloads,
)
from charts_py.validate.rules.base import ESTATE_CHECKS, SCOPE_CHECKS

__all__ = ["ESTATE_CHECKS", "SCOPE_CHECKS"]
