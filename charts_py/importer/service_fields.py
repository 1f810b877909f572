"""A service's own fields for the VirtualService and DestinationRule of its host: its
routes (`http`, `tcp`, `tls`), its versions (subsets) and traffic policy, and the names the
objects keep. Only objects in exactly the shape those fields render are placed here (the
FQDN host meshops writes, nothing else beside the routes or subsets): the rest go to the
namespace's lists as written (placement.py)."""

from __future__ import annotations

import re
from typing import Any

from charts_py.config import model, profiles

ROUTES = ("http", "tcp", "tls")


def fits(name: str) -> bool:
    """A service's object name is a DNS label of at most 52 characters (model.Name)."""
    return re.fullmatch(model.DNS_LABEL, name) is not None and len(name) <= 52


def routes(entry: dict[str, Any], name: str, spec: dict[str, Any]) -> bool:
    """The VirtualService's routes as the service's (True), unless it says more than
    `hosts` and routes or the service already has routes of another object (False)."""
    if not set(spec) <= {"hosts", *ROUTES} or "virtualService" in entry.get("names", {}):
        return False
    entry.pop("http")
    for route in ROUTES:
        if route in spec:
            entry[route] = spec[route]
    if not any(route in entry for route in ROUTES):
        entry["http"] = []  # no routes at all: still no VirtualService of meshops's own
    _name(entry, "virtualService", name)
    return True


def subsets(entry: dict[str, Any], name: str, spec: dict[str, Any], profile: str) -> bool:
    """The DestinationRule's subsets as the service's versions and its traffic policy as
    the service's (True), unless it has more than host, subsets and policy, a subset more
    than a name, labels and policy, or the service has a rule already (False)."""
    if "destinationRule" not in entry or not _subsets_fit(spec):
        return False
    del entry["destinationRule"]
    entry["versions"] = [_version(subset) for subset in spec["subsets"]]
    policy = spec.get("trafficPolicy")
    if policy or _profile_adds_policy(profile):
        entry["trafficPolicy"] = policy or {}
    _name(entry, "destinationRule", name)
    return True


def _name(entry: dict[str, Any], kind: str, name: str) -> None:
    if name != entry["name"]:
        entry.setdefault("names", {})[kind] = name


def _subsets_fit(spec: dict[str, Any]) -> bool:
    subsets = spec.get("subsets")
    if not set(spec) <= {"host", "trafficPolicy", "subsets"} or not subsets:
        return False
    return all(
        isinstance(s, dict)
        and set(s) <= {"name", "labels", "trafficPolicy"}
        and fits(str(s.get("name", "")))
        and s.get("labels")
        for s in subsets
    )


def _version(subset: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": subset["name"], "labels": dict(subset["labels"])}
    if subset.get("trafficPolicy"):
        out["trafficPolicy"] = subset["trafficPolicy"]
    return out


def _profile_adds_policy(profile: str) -> bool:
    """Whether the profile would give a service's DestinationRule a traffic policy of its
    own (then an adopted rule without one says `trafficPolicy: {}`)."""
    policy = profiles.PROFILES[profile]
    return any(policy.get(key) for key in ("loadBalancer", "outlierDetection", "connectionPool"))
