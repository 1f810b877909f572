"""Profile policy and its waivers: what a profile enforces, not merely defaults.

Everything a profile adds can be set or switched off (`false`) per environment, namespace or
service. Four of those settings are policy in the profiles whose validate rules fail on them
(prod: `catalog.py` severity E): STRICT mTLS (`mtls-strict`), `allow-nothing` per namespace
(`default-deny`), a default Sidecar with REGISTRY_ONLY (`egress-restricted`), and no fault
injection (`fault-injection`). Switching one off there fails to load, naming the rule and the
waiver; a waiver in the platform file (`waivers:`, never a team's) lets it through, and synth
writes it on the objects validate judges as validate's own suppression annotation, so the
exception is visible in dist/ and in every report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from charts_py import contract
from charts_py.config import source

if TYPE_CHECKING:
    from charts_py.config.environment import Environment

POLICY: dict[str, frozenset[str]] = {
    "prod": frozenset({"mtls-strict", "default-deny", "egress-restricted", "fault-injection"}),
}
"""The rules each profile enforces (tests/unit/test_waivers.py holds them to validate's
catalog: severity `error` under that profile)."""

ON_NAMESPACE = ("mtls-strict", "default-deny", "egress-restricted")
"""Rules whose findings validate reports on a Namespace object."""

Problem = tuple[source.FieldPath, str]


def waived(env: Environment, rule: str, namespace: str | None = None) -> bool:
    """Whether the platform file waives `rule` (for `namespace`, or everywhere)."""
    return any(w.rule == rule and w.namespace in (None, namespace) for w in env.spec.waivers)


def enforced(env: Environment, rule: str, namespace: str | None = None) -> bool:
    """Whether `rule` is policy here and not waived."""
    return rule in POLICY.get(env.spec.profile, frozenset()) and not waived(env, rule, namespace)


def hint(env: Environment, rule: str, namespace: str | None = None) -> str:
    """The end of a refusal: the rule, and how to waive it."""
    where = f", namespace: {namespace}" if namespace else ""
    return (
        f"the {env.spec.profile} profile enforces it (rule {rule}); to waive it, add "
        f"`waivers: [{{rule: {rule}{where}, reason: <why>}}]` to {env.file}"
    )


def suppression(env: Environment, rules: tuple[str, ...], namespace: str | None) -> dict[str, str]:
    """Validate's suppression annotation for the waivers of `rules` that apply to an object
    in `namespace` (None: a mesh-wide object), or nothing."""
    found = [w for w in env.spec.waivers if w.rule in rules and w.namespace in (None, namespace)]
    if not found:
        return {}
    ids = ",".join(sorted({w.rule for w in found}))
    reason = "; ".join(dict.fromkeys(w.reason for w in found))
    return {contract.SUPPRESS: f"{ids}: {reason}"}


def problems(env: Environment) -> Iterator[tuple[source.Source, source.FieldPath, str]]:
    """Policy switched off without a waiver, where the file switched it off."""
    policy = env.policy
    if policy.mtls_mode != "STRICT" and enforced(env, "mtls-strict"):
        reason = (
            f"mTLS mode {policy.mtls_mode or 'off'} accepts plaintext: {hint(env, 'mtls-strict')}"
        )
        yield env.raw, ("policy", "mtlsMode"), reason
    if policy.outbound_traffic != "REGISTRY_ONLY" and enforced(env, "egress-restricted"):
        reason = f"outbound traffic reaches any host: {hint(env, 'egress-restricted')}"
        yield env.raw, ("policy", "outboundTraffic"), reason
    for ns in env.namespaces:
        for name, rule in (("authorization", "default-deny"), ("sidecar", "egress-restricted")):
            if ns.switched(name, getattr(policy, name)) or not enforced(env, rule, ns.name):
                continue
            own = ns.spec is not None and getattr(ns.spec, name) is not None
            at = (*ns.at[:-1], name) if own else ("policy", name)
            reason = f"{name} is off in namespace {ns.name}: {hint(env, rule, ns.name)}"
            yield (ns.raw if own else env.raw), at, reason
