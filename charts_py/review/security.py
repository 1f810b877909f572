"""mTLS (PeerAuthentication, a DestinationRule's client TLS), who may call whom
(AuthorizationPolicy) and JWT requirements (RequestAuthentication, DENY rules on
`notRequestPrincipals`).

Authorization is compared as grants: (who, what) pairs of an ALLOW or DENY policy, so a
grant added to an ALLOW policy or taken from a DENY policy widens access, whatever else moved.
"""

from __future__ import annotations

from typing import Any

from charts_py.review import delta
from charts_py.review.context import BASE, HEAD, Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]

_STRENGTH = {"STRICT": 2, "ISTIO_MUTUAL": 2, "MUTUAL": 2, "PERMISSIVE": 1, "UNSET": 1}
"""How much of mTLS a mode enforces; DISABLE, SIMPLE and anything unknown count 0."""


# --- mTLS ----------------------------------------------------------------------------------


def peer_authentication(before: Obj | None, after: Obj | None) -> list[Change]:
    """The workload's (or namespace's, or mesh's) mTLS mode, port-level modes included."""
    old, new = _modes(before), _modes(after)
    if old == new:
        return []
    paths = ("/spec/mtls", "/spec/portLevelMtls") if before and after else ("",)
    return [_mtls(old["mode"], new["mode"], old, new, paths)]


def _modes(pa: Obj | None) -> dict[str, Any]:
    """`{"mode": ..., "ports": {...}}` with Istio's UNSET where nothing is said (or no policy)."""
    spec = (pa or {}).get("spec") or {}
    ports = {
        str(port): str((setting or {}).get("mode", "UNSET"))
        for port, setting in (spec.get("portLevelMtls") or {}).items()
    }
    return {"mode": str((spec.get("mtls") or {}).get("mode", "UNSET")), "ports": ports}


def _mtls(old: str, new: str, before: Any, after: Any, paths: tuple[str, ...]) -> Change:
    weaker = _STRENGTH.get(new, 0) < _STRENGTH.get(old, 0)
    ports_weaker = isinstance(before, dict) and any(
        _STRENGTH.get(after["ports"].get(p, after["mode"]), 0) < _STRENGTH.get(m, 0)
        for p, m in before.get("ports", {}).items()
    )
    shown_before = old if not (isinstance(before, dict) and before.get("ports")) else before
    shown_after = new if not (isinstance(after, dict) and after.get("ports")) else after
    if weaker or ports_weaker:
        return Change(
            "mtls",
            shown_before,
            shown_after,
            Risk.CRITICAL,
            f"mTLS is loosened: {old} -> {new}",
            paths,
        )
    if _STRENGTH.get(new, 0) > _STRENGTH.get(old, 0):
        return Change(
            "mtls",
            shown_before,
            shown_after,
            Risk.HIGH,
            f"mTLS is tightened ({old} -> {new}): plaintext clients fail",
            paths,
        )
    return Change("mtls", shown_before, shown_after, Risk.MEDIUM, "port-level mTLS changes", paths)


def client_tls(before: Obj | None, after: Obj | None) -> list[Change]:
    """A DestinationRule's `trafficPolicy.tls.mode` (unset: Istio's auto mTLS)."""
    old, new = _tls(before), _tls(after)
    if old == new:
        return []
    return [_mtls(old, new, old, new, ("/spec/trafficPolicy/tls",))]


def _tls(dr: Obj | None) -> str:
    tls = (((dr or {}).get("spec") or {}).get("trafficPolicy") or {}).get("tls") or {}
    return str(tls.get("mode", "ISTIO_MUTUAL"))  # auto mTLS sends mTLS to sidecars


# --- authorization -------------------------------------------------------------------------


def authorization_policy(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """Who may call whom: grants added or taken away; JWT-requiring DENY rules are exposure.
    A service moving behind its waypoint (or back) with the same callers only moves where
    they are admitted: ztunnel's policy admits the waypoint, the waypoint's the callers."""
    if _jwt_rule(before) or _jwt_rule(after):
        return _jwt_paths_change(before, after)
    old, new = _grants(before), _grants(after)
    action = str(((after or before or {}).get("spec") or {}).get("action", "ALLOW"))
    # An ALLOW policy without rules denies everything (allow-nothing): removing it opens up.
    opened = before is not None and after is None and action == "ALLOW" and not old
    if old == new and not opened:
        return []
    added, taken = new - old, old - new
    widened = opened or (bool(added) if action == "ALLOW" else bool(taken))
    view_before = _view(before) if before else None
    view_after = _view(after) if after else None
    paths = ("/spec",) if before and after else ("",)
    source = _principal(after, added, HEAD) or _principal(before, taken, BASE)
    service, namespace = _target(after or before or {})
    if action == "ALLOW" and service is not None and _moved(ctx, service, namespace):
        why = f"who may call {service} is unchanged: it is admitted at its waypoint, or no longer"
        return [Change("authorization", view_before, view_after, Risk.MEDIUM, why, paths,
                       source_at=source)]  # fmt: skip
    if widened:
        why = "access is widened: " + (_said(added or taken) or "an allow-nothing is removed")
        return [Change("authorization", view_before, view_after, Risk.CRITICAL, why, paths,
                       source_at=source)]  # fmt: skip
    why = "access is narrowed (callers may be refused): " + _said(taken or added)
    return [Change("authorization", view_before, view_after, Risk.HIGH, why, paths,
                   source_at=source)]  # fmt: skip


def _target(ap: Obj) -> tuple[str | None, str]:
    """The service a policy applies to (its pods' `app`, or the Service it targets), and its
    namespace."""
    spec = ap.get("spec") or {}
    app = ((spec.get("selector") or {}).get("matchLabels") or {}).get("app")
    refs = [r for r in spec.get("targetRefs") or [] if isinstance(r, dict)]
    named = [r.get("name") for r in refs if r.get("kind") == "Service"]
    service = app or (named[0] if named else None)
    return (str(service) if service else None), str((ap.get("metadata") or {}).get("namespace"))


def _moved(ctx: Context, service: str, namespace: str) -> bool:
    """`service` went behind its waypoint, or came out, and the same callers reach it."""
    behind = {ctx.behind_waypoint(side, service, namespace) for side in (BASE, HEAD)}
    callers = {ctx.callers(side, service, namespace) for side in (BASE, HEAD)}
    return len(behind) == 2 and len(callers) == 1


def _principal(
    ap: Obj | None, grants: frozenset[tuple[str, str]], side: str
) -> tuple[str, str] | None:
    """(side, pointer) of the first principal of `ap` that one of `grants` names: where synth
    recorded the caller's `calls` entry (None if the grants name no principal)."""
    if ap is None:
        return None
    namespace = str((ap.get("metadata") or {}).get("namespace", ""))
    whos = {who.split(" ", 1)[0] for who, _ in grants}
    for r, rule in enumerate((ap.get("spec") or {}).get("rules") or []):
        for f, src in enumerate((rule or {}).get("from") or []):
            principals = ((src or {}).get("source") or {}).get("principals") or []
            for i, principal in enumerate(principals):
                if caller(str(principal), namespace) in whos:
                    return side, f"/spec/rules/{r}/from/{f}/source/principals/{i}"
    return None


def _grants(ap: Obj | None) -> frozenset[tuple[str, str]]:
    """(who, what) for every source and operation of every rule; `*` where a rule says nothing."""
    if ap is None:
        return frozenset()
    spec = ap.get("spec") or {}
    out: set[tuple[str, str]] = set()
    namespace = str((ap.get("metadata") or {}).get("namespace", ""))
    for rule in spec.get("rules") or []:
        rule = rule or {}
        sources = [
            who
            for s in rule.get("from") or [{}]
            for who in _sources(s.get("source") or {}, namespace)
        ]
        ops = [_operation(o.get("operation") or {}) for o in rule.get("to") or [{}]]
        cond = _when(rule.get("when"))
        out |= {(s, o + cond) for s in sources for o in ops}
    return frozenset(out)


def _sources(source: Obj, namespace: str) -> list[str]:
    """Who a `from.source` admits: each principal (as `caller` names it) or namespace on its
    own, with the source's other conditions (`requestPrincipals=...`) beside it."""
    whos = [caller(str(p), namespace) for p in source.get("principals") or []]
    whos += [f"{ns}/*" for ns in source.get("namespaces") or []]
    rest = " ".join(
        f"{key}={','.join(sorted(map(str, values or [])))}"
        for key, values in sorted(source.items())
        if key not in ("principals", "namespaces")
    )
    if not whos:
        return [rest or "*"]
    return [f"{who} {rest}".strip() for who in whos]


def _operation(operation: Obj) -> str:
    return (
        " ".join(f"{k}={','.join(sorted(map(str, v)))}" for k, v in sorted(operation.items()))
        or "*"
    )


def _when(conditions: Any) -> str:
    if not conditions:
        return ""
    return " when " + "; ".join(sorted(f"{c.get('key')} in {c.get('values')}" for c in conditions))


def caller(principal: str, namespace: str) -> str:
    """`cluster.local/ns/shop/sa/catalog` -> `catalog` in namespace shop, `shop/catalog`
    from any other namespace; other principals as written."""
    parts = principal.split("/")
    if len(parts) == 5 and parts[1] == "ns" and parts[3] == "sa":
        return parts[4] if parts[2] == namespace else f"{parts[2]}/{parts[4]}"
    return principal


def callers_of(ap: Obj) -> set[str]:
    """The callers an ALLOW policy admits (principals, as `caller` names them)."""
    spec = ap.get("spec") or {}
    if spec.get("action", "ALLOW") != "ALLOW":
        return set()
    namespace = str((ap.get("metadata") or {}).get("namespace", ""))
    return {
        caller(str(p), namespace)
        for rule in spec.get("rules") or []
        for src in (rule or {}).get("from") or []
        for p in ((src or {}).get("source") or {}).get("principals") or []
    }


def _view(ap: Obj) -> dict[str, Any]:
    spec = ap.get("spec") or {}
    return {
        "action": spec.get("action", "ALLOW"),
        "callers": sorted({who for who, _ in _grants(ap)}),
        "rules": len(spec.get("rules") or []),
    }


def _said(grants: frozenset[tuple[str, str]]) -> str:
    shown = sorted({who if what == "*" else f"{who} -> {what}" for who, what in grants})
    return ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


# --- JWT ------------------------------------------------------------------------------------


def _jwt_rule(ap: Obj | None) -> bool:
    """A DENY policy on requests without a request principal: the paths that need a JWT."""
    spec = (ap or {}).get("spec") or {}
    return spec.get("action") == "DENY" and any(
        "notRequestPrincipals" in ((s or {}).get("source") or {})
        for r in spec.get("rules") or []
        for s in (r or {}).get("from") or []
    )


def jwt_paths(ap: Obj) -> list[str]:
    """The paths a JWT-requiring DENY policy protects (`*` when it names none)."""
    if not _jwt_rule(ap):
        return []
    out: list[str] = []
    for rule in (ap.get("spec") or {}).get("rules") or []:
        ops = [(o or {}).get("operation") or {} for o in (rule or {}).get("to") or [{}]]
        out += [str(p) for op in ops for p in op.get("paths") or ["*"]]
    return sorted(set(out))


def _jwt_paths_change(before: Obj | None, after: Obj | None) -> list[Change]:
    old = jwt_paths(before) if before else []
    new = jwt_paths(after) if after else []
    dropped = sorted(set(old) - set(new))
    if old == new:
        paths = tuple(delta.paths(before, after)) if before and after else ("",)
        if not paths:
            return []
        risk, reason = Risk.MEDIUM, "the JWT rule changes"
    elif dropped:
        paths = ("/spec/rules",) if before and after else ("",)
        risk, reason = Risk.CRITICAL, "no longer requires a JWT: " + ", ".join(dropped)
    else:
        paths = ("/spec/rules",) if before and after else ("",)
        risk, reason = Risk.MEDIUM, "more paths require a JWT"
    return [Change("exposure", {"jwtRequired": old}, {"jwtRequired": new}, risk, reason, paths)]


def request_authentication(before: Obj | None, after: Obj | None) -> list[Change]:
    """Which issuers' JWTs are accepted: removing one makes its tokens fail (or, with the
    DENY rule gone, unchecked)."""
    old, new = _issuers(before), _issuers(after)
    paths = tuple(delta.paths(before, after)) if before and after else ("",)
    if not paths:
        return []
    risk, why = (
        (Risk.CRITICAL, "a JWT issuer is no longer accepted or checked")
        if old - new
        else (Risk.HIGH, "JWT validation changes")
    )
    return [
        Change("exposure", {"issuers": sorted(old)}, {"issuers": sorted(new)}, risk, why, paths)
    ]


def _issuers(ra: Obj | None) -> set[str]:
    rules = ((ra or {}).get("spec") or {}).get("jwtRules") or []
    return {str((r or {}).get("issuer")) for r in rules}
