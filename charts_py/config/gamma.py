"""Istio's HTTP routes in Gateway API's terms, attached to a Service (GAMMA), for ambient mode.

A waypoint takes its routes from HTTPRoute and GRPCRoute; Istio's ambient docs keep
VirtualService for sidecars, and one host routed by both is undefined. So an ambient
service's routes, shorthand or Istio's typed `http`, become HTTPRoute rules: field by field
where Gateway API v1.6 says the same thing as istiod reads it back
(`pilot/pkg/config/kube/gateway/conversion.go` at the pinned Istio commit: retries always add
connect-failure, refused-stream, unavailable and cancelled; `backendRequest` becomes the
per-try timeout when a retry is set). A field it cannot say is a problem naming the field and
the alternative, checked when the file is loaded: nothing is dropped silently.

Leaves may be `provenance.Traced` (rendering keeps each value's origin); decisions read
through `plain`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from charts_py import provenance

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

Backend = Callable[[Any, Any], str | None]
"""(host, subset) of an Istio destination -> the Service a backendRef names, or None when the
host is no service of the route's namespace."""

KEEP_SIDECAR = "or keep the namespace on `dataplane: sidecar` until it can move"

CODES_5XX = list(range(500, 512))
"""Envoy's `5xx` retries on any 5xx status; Gateway API lists codes one by one: 500 to 511,
the highest the IANA status code registry defines."""
RETRY_ON_CODES: dict[str, list[int]] = {
    "5xx": CODES_5XX,
    "gateway-error": [502, 503, 504],
    "retriable-4xx": [409],
}
"""Envoy retry conditions Gateway API says as status codes (Envoy's router docs)."""
RETRY_ON_IMPLIED = frozenset(
    {"connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"}
)
"""What istiod adds to every HTTPRoute retry (and the codes themselves): said by `retry`."""

URI_MATCH = {"exact": "Exact", "prefix": "PathPrefix", "regex": "RegularExpression"}
VALUE_MATCH = {"exact": "Exact", "regex": "RegularExpression"}
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


def plain(value: Any) -> Any:
    """A leaf without its origin."""
    return value.value if isinstance(value, provenance.Traced) else value


def retry_codes(retry_on: str) -> tuple[list[int], list[str]]:
    """The status codes Gateway API's `retry.codes` says for Istio's `retryOn`, and the
    conditions it cannot say (`reset`, `deadline-exceeded`, ...)."""
    codes: set[int] = set()
    lost: list[str] = []
    for token in (t.strip() for t in retry_on.split(",") if t.strip()):
        if token.isdigit() and 400 <= int(token) <= 599:
            codes.add(int(token))
        elif token in RETRY_ON_CODES:
            codes.update(RETRY_ON_CODES[token])
        elif token not in RETRY_ON_IMPLIED:
            lost.append(token)
    return sorted(codes), lost


def rule(
    route: Mapping[str, Any], backend: Backend, port: Any
) -> tuple[dict[str, Any], list[Problem]]:
    """One HTTPRoute rule for Istio's HTTPRoute `route` (a dict, leaves possibly traced), with
    the problems that keep it from saying the same thing; `port` is the service's port a
    backendRef names when the destination names none."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in route.items():
        handler = _FIELDS.get(key)
        if handler is None:
            problems.append(((key,), UNSAID.get(key, "Gateway API's HTTPRoute has no equivalent")))
            continue
        problems += [((key, *at), why) for at, why in handler(out, value, route, backend, port)]
    return out, problems


def _name(out: dict[str, Any], value: Any, *_: Any) -> Iterator[Problem]:
    out["name"] = value
    return iter(())


def _match(out: dict[str, Any], value: Sequence[Mapping[str, Any]], *_: Any) -> Iterator[Problem]:
    matches: list[dict[str, Any]] = []
    for i, match in enumerate(value):
        found: dict[str, Any] = {}
        for key, condition in match.items():
            if key == "uri":
                kind, text = _one(condition)
                found["path"] = {"type": URI_MATCH[kind], "value": text}
            elif key in ("headers", "queryParams"):
                pairs, bad = _pairs(condition)
                found[key] = pairs
                yield from (((i, key, name), why) for name, why in bad)
            elif key == "method":
                kind, text = _one(condition)
                if kind != "exact" or plain(text) not in METHODS:
                    yield (i, key), "HTTPRoute matches one method exactly (GET, POST, ...)"
                found["method"] = text
            elif key != "name":
                yield (
                    (i, key),
                    f"HTTPRoute matches no `{key}` (only path, headers, method, queryParams)",
                )
        matches.append(found)
    out["matches"] = matches
    return


def _one(condition: Mapping[str, Any]) -> tuple[str, Any]:
    """Istio's StringMatch: one of exact, prefix, regex."""
    ((kind, text),) = condition.items()
    return kind, text


def _pairs(
    conditions: Mapping[str, Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Header or query matches as Gateway API lists them, and the ones it cannot say."""
    out: list[dict[str, Any]] = []
    bad: list[tuple[str, str]] = []
    for name in sorted(conditions):
        kind, text = _one(conditions[name])
        if kind not in VALUE_MATCH:
            bad.append((name, f"HTTPRoute matches a value exactly or by regex, not by {kind}"))
            continue
        out.append({"name": name, "type": VALUE_MATCH[kind], "value": text})
    return out, bad


def _route(
    out: dict[str, Any],
    value: Sequence[Mapping[str, Any]],
    route: Mapping[str, Any],
    backend: Backend,
    port: Any,
) -> Iterator[Problem]:
    refs: list[dict[str, Any]] = []
    for i, target in enumerate(value):
        ref = _backend_ref(target["destination"], backend, port)
        if ref is None:
            yield (i, "destination", "host"), _OTHER_HOST
            continue
        if "weight" in target:
            ref["weight"] = target["weight"]
        refs.append(ref)
    out["backendRefs"] = refs


_OTHER_HOST = (
    "a GAMMA route's backend is a Service of its own namespace (another needs a "
    f"ReferenceGrant meshops does not render): route to this service's versions, {KEEP_SIDECAR}"
)


def _backend_ref(
    destination: Mapping[str, Any], backend: Backend, port: Any
) -> dict[str, Any] | None:
    name = backend(destination["host"], destination.get("subset"))
    if name is None:
        return None
    number = destination.get("port", {}).get("number", port)
    # group and kind as the server would default them: said, because this route's parentRefs
    # say the same strings, and drift's table of server defaults reads a default that repeats
    # a string of git's object as a copy, not a default (drift/defaults.py).
    return {"group": "", "kind": "Service", "name": name, "port": number}


def _timeout(out: dict[str, Any], value: Any, *_: Any) -> Iterator[Problem]:
    out.setdefault("timeouts", {})["request"] = value
    return iter(())


def _retries(out: dict[str, Any], value: Mapping[str, Any], *_: Any) -> Iterator[Problem]:
    attempts = value.get("attempts")
    if attempts is not None and plain(attempts) == 0:
        yield (
            ("attempts",),
            "HTTPRoute cannot say `no retries` (attempts 0): Istio's default of 2 would apply",
        )
        return
    retry: dict[str, Any] = {}
    if attempts is not None:
        retry["attempts"] = attempts
    if "retryOn" in value:
        codes, lost = retry_codes(plain(value["retryOn"]))
        if lost:
            yield ("retryOn",), retry_on_reason(lost)
        if codes:
            retry["codes"] = _rewritten(value["retryOn"], codes)
    if "backoff" in value:
        retry["backoff"] = value["backoff"]
    if "perTryTimeout" in value:
        out.setdefault("timeouts", {})["backendRequest"] = value["perTryTimeout"]
    for key in ("retryRemoteLocalities", "retryIgnorePreviousHosts"):
        if key in value:
            yield (key,), f"HTTPRoute's retry has no `{key}`"
    out["retry"] = retry


def _rewritten(source: Any, value: Any) -> Any:
    """`value`, computed from `source`: with its origin, marked inexact, when it has one."""
    if isinstance(source, provenance.Traced):
        return provenance.Traced(value, dataclasses.replace(source.origin, exact=False))
    return value


def retry_on_reason(lost: Sequence[str]) -> str:
    """Why a retryOn cannot move to ambient, and what to write instead."""
    return (
        f"retry condition(s) {', '.join(lost)} have no HTTPRoute equivalent (its retry says "
        "status codes; istiod adds connect-failure, refused-stream, unavailable, cancelled): "
        f"write retryOn without them (e.g. `5xx,connect-failure,refused-stream`), {KEEP_SIDECAR}"
    )


def _rewrite(
    out: dict[str, Any], value: Mapping[str, Any], route: Mapping[str, Any], *_: Any
) -> Iterator[Problem]:
    rewrite: dict[str, Any] = {}
    if "authority" in value:
        rewrite["hostname"] = value["authority"]
    if "uri" in value:
        prefixes = [m for m in route.get("match", []) if "prefix" in m.get("uri", {})]
        if prefixes and len(route.get("match", [])) != 1:
            yield ("uri",), "HTTPRoute rewrites a matched prefix only for a rule with one match"
        kind = "ReplacePrefixMatch" if prefixes else "ReplaceFullPath"
        key = "replacePrefixMatch" if prefixes else "replaceFullPath"
        rewrite["path"] = {"type": kind, key: value["uri"]}
    for key in value:
        if key not in ("authority", "uri"):
            yield (key,), f"HTTPRoute's URLRewrite has no `{key}`"
    _filter(out, "URLRewrite", "urlRewrite", rewrite)


def _redirect(out: dict[str, Any], value: Mapping[str, Any], *_: Any) -> Iterator[Problem]:
    redirect: dict[str, Any] = {}
    for key, target in (("authority", "hostname"), ("scheme", "scheme"), ("port", "port")):
        if key in value:
            redirect[target] = value[key]
    if "uri" in value:
        redirect["path"] = {"type": "ReplaceFullPath", "replaceFullPath": value["uri"]}
    if "redirectCode" in value:
        if plain(value["redirectCode"]) not in REDIRECT_CODES:
            yield ("redirectCode",), f"HTTPRoute redirects with {sorted(REDIRECT_CODES)} only"
        redirect["statusCode"] = value["redirectCode"]
    for key in value:
        if key not in ("authority", "scheme", "port", "uri", "redirectCode"):
            yield (key,), f"HTTPRoute's RequestRedirect has no `{key}`"
    _filter(out, "RequestRedirect", "requestRedirect", redirect)


def _headers(out: dict[str, Any], value: Mapping[str, Any], *_: Any) -> Iterator[Problem]:
    for side, kind, key in (
        ("request", "RequestHeaderModifier", "requestHeaderModifier"),
        ("response", "ResponseHeaderModifier", "responseHeaderModifier"),
    ):
        if side not in value:
            continue
        modifier: dict[str, Any] = {}
        for op in ("set", "add"):
            if op in value[side]:
                pairs = value[side][op]
                modifier[op] = [{"name": n, "value": pairs[n]} for n in sorted(pairs)]
        if "remove" in value[side]:
            modifier["remove"] = value[side]["remove"]
        _filter(out, kind, key, modifier)
    return iter(())


def _mirror(
    out: dict[str, Any],
    value: Mapping[str, Any],
    route: Mapping[str, Any],
    backend: Backend,
    port: Any,
) -> Iterator[Problem]:
    ref = _backend_ref(value, backend, port)
    if ref is None:
        yield ("host",), _OTHER_HOST
        return
    mirror: dict[str, Any] = {"backendRef": ref}
    share = route.get("mirrorPercentage", {}).get("value")
    if share is not None:
        mirror |= _share(plain(share))
    _filter(out, "RequestMirror", "requestMirror", mirror)


def _share(percent: float) -> dict[str, Any]:
    """A mirrored share as Gateway API says it: `percent` when whole, else a `fraction`."""
    if float(percent).is_integer():
        return {"percent": int(percent)}
    return {"fraction": {"numerator": round(percent * 1000), "denominator": 100000}}


def _mirror_percentage(*_: Any) -> Iterator[Problem]:
    return iter(())  # said by the mirror filter (_mirror)


def _filter(out: dict[str, Any], kind: str, key: str, body: dict[str, Any]) -> None:
    out.setdefault("filters", []).append({"type": kind, key: body})


_FIELDS: dict[str, Callable[..., Iterator[Problem]]] = {
    "name": _name,
    "match": _match,
    "route": _route,
    "timeout": _timeout,
    "retries": _retries,
    "rewrite": _rewrite,
    "redirect": _redirect,
    "headers": _headers,
    "mirror": _mirror,
    "mirrorPercentage": _mirror_percentage,
}
"""Istio HTTPRoute fields Gateway API's HTTPRoute says, and how."""

UNSAID = {
    "fault": (
        "fault injection has no Gateway API equivalent, so a waypoint cannot inject it: "
        f"run the experiment in a sidecar namespace, {KEEP_SIDECAR}"
    ),
    "mirrors": (
        "meshops translates one mirror (`mirror`, `mirrorPercentage`) to HTTPRoute's "
        f"RequestMirror filter, not `mirrors`: {KEEP_SIDECAR}"
    ),
    "mirrorPercent": "deprecated by Istio: use `mirrorPercentage`",
    "mirror_percent": "deprecated by Istio: use `mirrorPercentage`",
    "delegate": f"HTTPRoute has no delegation: write the routes on the service, {KEEP_SIDECAR}",
    "directResponse": f"HTTPRoute has no direct response, {KEEP_SIDECAR}",
    "corsPolicy": (
        f"meshops does not translate corsPolicy to HTTPRoute's CORS filter yet, {KEEP_SIDECAR}"
    ),
}
"""Why an Istio HTTPRoute field cannot move, and the alternative."""
