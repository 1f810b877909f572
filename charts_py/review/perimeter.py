"""The mesh's edges: Gateways (what the ingress gateway serves), ServiceEntries (external
hosts) and Sidecars (which hosts a workload may reach, and whether only registered ones)."""

from __future__ import annotations

from typing import Any

from charts_py.review.context import BASE, HEAD, Context
from charts_py.review.model import Change, Risk

Obj = dict[str, Any]


def gateway(before: Obj | None, after: Obj | None) -> list[Change]:
    """Hosts served per server: an ingress gateway's are exposure, an egress gateway's egress."""
    obj = after or before or {}
    selector = " ".join(
        f"{k}={v}" for k, v in ((obj.get("spec") or {}).get("selector") or {}).items()
    )
    kind = "egress" if "egress" in selector else "exposure"
    paths = ("/spec/servers",) if before and after else ("",)
    return _served(kind, _servers(before), _servers(after), paths)


def listeners(before: Obj | None, after: Obj | None) -> list[Change]:
    """A Gateway API Gateway's listeners, read as an ingress gateway's servers (host:port,
    protocol, TLS mode); a waypoint's (class istio-waypoint: the mesh's own HBONE port, no
    host) is no exposure and is left to the other kinds."""
    obj = after or before or {}
    if (obj.get("spec") or {}).get("gatewayClassName") == WAYPOINT_CLASS:
        return []
    paths = ("/spec/listeners",) if before and after else ("",)
    return _served("exposure", _listeners(before), _listeners(after), paths)


WAYPOINT_CLASS = "istio-waypoint"


Served = dict[str, dict[str, Any]]
"""What a gateway serves: per `host:port`, the protocol, TLS mode and certificates."""


def _served(kind: str, old: Served, new: Served, paths: tuple[str, ...]) -> list[Change]:
    """Hosts served removed (critical), their TLS or protocol changed, or hosts added (high)."""
    if old == new:
        return []
    gone = {h for h in old if h not in new}
    if gone:
        why = "a served host is removed: " + ", ".join(sorted(gone))
        return [Change(kind, old or None, new or None, Risk.CRITICAL, why, paths)]
    if any(old[h] != new[h] for h in old.keys() & new.keys()):
        why = "a host's TLS settings (mode, certificate) or protocol change"
        return [Change(kind, old, new, Risk.HIGH, why, paths)]
    why = "hosts are added: " + ", ".join(sorted(new.keys() - old.keys()))
    return [Change(kind, old or None, new or None, Risk.HIGH, why, paths)]


def _listeners(gw: Obj | None) -> Served:
    """Per `host:port` (`*` without a hostname), the protocol, TLS mode and certificates."""
    out: dict[str, dict[str, Any]] = {}
    for listener in ((gw or {}).get("spec") or {}).get("listeners") or []:
        listener = listener or {}
        view: dict[str, Any] = {"protocol": listener.get("protocol")}
        tls = listener.get("tls") or {}
        if tls:
            view["tls"] = tls.get("mode", "Terminate")
            refs = [(r or {}).get("name") for r in tls.get("certificateRefs") or []]
            view |= {"certificates": refs} if refs else {}
        out[f"{listener.get('hostname', '*')}:{listener.get('port')}"] = view
    return out


def _servers(gw: Obj | None) -> Served:
    """Per `host:port`, the protocol, TLS mode and certificates it is served with."""
    out: dict[str, dict[str, Any]] = {}
    for server in ((gw or {}).get("spec") or {}).get("servers") or []:
        port = (server or {}).get("port") or {}
        tls = (server or {}).get("tls") or {}
        for host in server.get("hosts") or []:
            view: dict[str, Any] = {"protocol": port.get("protocol")}
            if tls:
                view["tls"] = tls.get("mode") or (
                    "httpsRedirect" if tls.get("httpsRedirect") else None
                )
                names = tls.get("credentialNames") or [tls.get("credentialName")]
                view |= {"certificates": names} if any(names) else {}
            out[f"{host}:{port.get('number')}"] = view
    return out


def service_entry(before: Obj | None, after: Obj | None, ctx: Context) -> list[Change]:
    """External hosts added or removed, and whether they pass the egress gateway."""
    old, new = _entry(before, ctx, BASE), _entry(after, ctx, HEAD)
    if old == new:
        return []
    paths = ("/spec",) if before and after else ("",)
    if new is None or (old and set(old["hosts"]) - set(new["hosts"])):
        return [
            Change(
                "egress",
                old,
                new,
                Risk.CRITICAL,
                "an external host that serves traffic is removed",
                paths,
            )
        ]
    if old is None or set(new["hosts"]) - set(old["hosts"]):
        how = (
            "through the egress gateway"
            if new["egressGateway"]
            else "directly, not through the egress gateway"
        )
        return [Change("egress", old, new, Risk.HIGH, f"an external host is added ({how})", paths)]
    return [
        Change(
            "egress",
            old,
            new,
            Risk.MEDIUM,
            "an external host's ports, addresses or endpoints change",
            paths,
        )
    ]


def _entry(se: Obj | None, ctx: Context, side: str) -> dict[str, Any] | None:
    if se is None:
        return None
    spec = se.get("spec") or {}
    hosts = sorted(str(h) for h in spec.get("hosts") or [])
    view = {
        "hosts": hosts,
        "ports": sorted(f"{p.get('number')}/{p.get('protocol')}" for p in spec.get("ports") or []),
        "location": spec.get("location", "MESH_EXTERNAL"),
        "egressGateway": bool(hosts) and all(ctx.through_egress_gateway(side, h) for h in hosts),
    }
    # Where the host's traffic goes when the entry says it (STATIC resolution, VIPs).
    return view | {k: spec[k] for k in _DESTINATIONS if k in spec}


_DESTINATIONS = ("addresses", "endpoints")


def sidecar(before: Obj | None, after: Obj | None) -> list[Change]:
    """Hosts a workload may reach (egress listeners) and its outbound policy."""
    if before is None or after is None:
        return []
    old, new = _reach(before), _reach(after)
    out = []
    if old["outboundTrafficPolicy"] != new["outboundTrafficPolicy"]:
        opened = new["outboundTrafficPolicy"] == "ALLOW_ANY"
        risk = Risk.CRITICAL if opened else Risk.HIGH
        why = (
            "any external host becomes reachable (ALLOW_ANY)"
            if opened
            else "only registered hosts stay reachable"
        )
        out.append(
            Change(
                "egress",
                old["outboundTrafficPolicy"],
                new["outboundTrafficPolicy"],
                risk,
                why,
                ("/spec/outboundTrafficPolicy",),
            )
        )
    if old["hosts"] != new["hosts"]:
        added = sorted(set(new["hosts"]) - set(old["hosts"]))
        removed = sorted(set(old["hosts"]) - set(new["hosts"]))
        why = "; ".join(
            p
            for p in (
                f"may reach {', '.join(added)}" if added else "",
                f"no longer reaches {', '.join(removed)}" if removed else "",
            )
            if p
        )
        risk = Risk.HIGH if added or removed else Risk.MEDIUM
        # Claimed only when no in-mesh host moved too: those are left to `other`, whole.
        inside = _reach(before, external=False)["hosts"] != _reach(after, external=False)["hosts"]
        claims = _host_pointers(after) if inside else ("/spec/egress",)
        out.append(
            Change("egress", old["hosts"], new["hosts"], risk, why or "egress changes", claims)
        )
    return out


def _reach(sidecar: Obj, *, external: bool = True) -> dict[str, Any]:
    """The external hosts the workload may reach (`ns/host`; with `external` False, the
    mesh's own services and wildcards instead), and its outbound policy."""
    spec = sidecar.get("spec") or {}
    hosts = sorted(
        {
            str(h)
            for e in spec.get("egress") or []
            for h in (e or {}).get("hosts") or []
            if _external(str(h)) == external
        }
    )
    mode = (spec.get("outboundTrafficPolicy") or {}).get("mode", "ALLOW_ANY")
    return {"hosts": hosts, "outboundTrafficPolicy": mode}


def _external(host: str) -> bool:
    """`ns/api.stripe.com` is outside the mesh; `./*`, `istio-system/*` and
    `shop/payment.shop.svc.cluster.local` are inside."""
    name = host.rsplit("/", 1)[-1]
    return "*" not in name and not name.endswith(".svc.cluster.local") and "." in name


def _host_pointers(sidecar: Obj) -> tuple[str, ...]:
    """The pointers of the external hosts in a Sidecar's egress listeners."""
    spec = sidecar.get("spec") or {}
    return tuple(
        f"/spec/egress/{i}/hosts/{j}"
        for i, e in enumerate(spec.get("egress") or [])
        for j, h in enumerate((e or {}).get("hosts") or [])
        if _external(str(h))
    ) or ("/spec/egress",)
