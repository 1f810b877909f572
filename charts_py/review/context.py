"""What a classifier may ask about the rest of one side of the review (not only its object)."""

from __future__ import annotations

from typing import Protocol

BASE, HEAD = "base", "head"

MESH_ROOT = "istio-system"
"""Istio's root namespace, as config/installation.py's ROOT says: read here, not imported,
because importing it loads the pydantic models (most of a second of review's start-up)."""


class Context(Protocol):
    """Facts of the environment at one side, read from its rendered objects."""

    def jwt_paths(self, side: str) -> tuple[str, ...]:
        """Ingress paths that require a JWT (`notRequestPrincipals` DENY rules' paths)."""
        ...

    def through_egress_gateway(self, side: str, host: str) -> bool:
        """Whether a VirtualService sends `host` through an egress gateway."""
        ...

    def callers(self, side: str, service: str, namespace: str) -> tuple[str, ...]:
        """Who the ALLOW policies that apply to `service` admit (waypoints left out)."""
        ...

    def behind_waypoint(self, side: str, service: str, namespace: str) -> bool:
        """Whether `service`'s own policies admit a waypoint (ambient, L7 at the waypoint)."""
        ...
