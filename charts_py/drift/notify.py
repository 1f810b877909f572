"""Deliver a compact drift summary to a webhook (`--notify URL`): plain JSON or Slack's shape.
The bounded HTTP transport (`send`) also carries the Pushgateway's metrics (pushgateway.py).

Delivery is best effort by design: it never changes the verdict or the exit code of a run, so
a flaky chat service cannot turn a nightly drift check red (or green). It is bounded: a timeout
per attempt, a few attempts with a fixed backoff, and only where a retry can help (connection
errors, timeouts, 5xx). Redirects are not followed: urllib would turn the POST into a GET
without a body and report success. Values in the report are masked already; credentials of the
URL never appear in messages (`redact`).
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from charts_py import provenance, retry
from charts_py.drift import formats
from charts_py.drift.model import Report, Result

TOP = 10  # divergent objects in a message: enough to act on, short enough for a chat line
TIMEOUT = 5.0
BACKOFF = (0.5, 1.0)  # seconds before the 2nd and 3rd attempt


@dataclass(frozen=True)
class Delivery:
    """How a delivery went: `ok`, the attempts made, the last HTTP status and the reason."""

    ok: bool
    attempts: int
    status: int | None = None
    reason: str = ""


def summary(report: Report) -> dict[str, Any]:
    """The JSON payload: verdict, counts and the worst divergent objects (no values)."""
    return {
        "env": report.env,
        "cluster": report.cluster,
        "verdict": formats.verdict(report),
        "complete": report.complete,
        "exitCode": report.exit_code(),
        "summary": report.summary(),
        "git": {"ref": report.git.ref, "commit": report.git.commit, "path": report.git.path},
        "finishedAt": report.finished_at,
        "objects": [_object(r) for r in top(report)],
        "errors": list(report.errors[:TOP]),
        **({"proposal": report.proposal.to_json()} if report.proposal else {}),
    }


def top(report: Report) -> list[Result]:
    """Up to TOP divergent objects, worst severity first."""
    return [r for _, group in formats.by_severity(report) for r in group][:TOP]


def _object(result: Result) -> dict[str, Any]:
    first = result.differences[0] if result.differences else None
    return {
        "kind": result.ref.kind,
        "namespace": result.ref.namespace,
        "name": result.ref.name,
        "status": str(result.status),
        "severity": str(result.severity) if result.severity else None,
        "path": first.path if first else None,
        "manager": first.manager if first else None,
        "source": provenance.origin_to_json(first.source) if first and first.source else None,
    }


def slack(report: Report) -> dict[str, Any]:
    """A Slack-compatible message: `text` for notifications, `blocks` for the channel."""
    title = f"meshops drift {report.env}/{report.cluster}: {formats.verdict(report)}"
    counts = report.summary()
    tally = ", ".join(f"{counts[k]} {k}" for k in ("modified", "missing", "extra", "unknown"))
    source = f"git `{report.git.commit[:12]}` ({report.git.ref}) `{report.git.path}`"
    if report.proposal:
        source += f"\nproposal: {report.proposal}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(f"{tally}\n{source}")}},
    ]
    lines = [_slack_line(r) for r in top(report)]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    return {"text": title, "blocks": blocks}


def _slack_line(result: Result) -> str:
    item = _object(result)
    where = f" `{item['path']}`" if item["path"] else ""
    who = f" by {item['manager']}" if item["manager"] else ""
    first = result.differences[0] if result.differences else None
    origin = f" (git: {formats.source(first)})" if first and first.source else ""
    line = f"• *{item['severity'] or 'unrated'}* {item['status']} {result.ref}{where}{who}{origin}"
    return _cut(_mrkdwn(line), 280)  # ten of them stay under Slack's 3000 per text block


def _mrkdwn(text: str) -> str:
    """Slack reads `&`, `<` and `>` as markup (links, mentions): escape them as it asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, width: int) -> str:
    """Slack rejects header text over 150 characters; keep lines readable too."""
    return text if len(text) <= width else text[: width - 1] + "…"


def payload(report: Report, kind: str) -> bytes:
    """The request body for `--notify-format` `kind` (json or slack)."""
    message = slack(report) if kind == "slack" else summary(report)
    return json.dumps(message, ensure_ascii=False, sort_keys=True).encode()


def redact(url: str) -> str:
    """`url` safe to print: no userinfo, query or fragment, and only the first path segment.

    Webhook URLs often carry their secret in the path (Slack: /services/T…/B…/token).
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + segments[0] + ("/…" if len(segments) > 1 else "") if segments else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))


def check_url(url: str) -> str:
    """The URL if it can be delivered to (http or https with a host); else ValueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {redact(url)}")
    return url


def deliver(
    report: Report,
    url: str,
    kind: str = "json",
    *,
    timeout: float = TIMEOUT,
    backoff: Sequence[float] = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST the summary; `len(backoff) + 1` attempts at most. Never raises for delivery."""
    body = payload(report, kind)
    return send(request(url, body, "POST", "application/json"), timeout, backoff, sleep)


def send(
    prepared: urllib.request.Request,
    timeout: float = TIMEOUT,
    backoff: Sequence[float] = BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send `request` with bounded retries (also the Pushgateway's transport). Never raises."""
    attempts = iter(range(1, len(backoff) + 2))
    policy = retry.Policy(attempts=len(backoff) + 1, pauses=tuple(backoff))
    try:
        return retry.call(
            lambda: _delivered(prepared, timeout, next(attempts)), policy, again=_helps, sleep=sleep
        )
    except _Undelivered as failed:
        return failed.delivery


def request(url: str, body: bytes, method: str, content_type: str) -> urllib.request.Request:
    """A request with credentials of the URL moved into a Basic Authorization header."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": content_type, "User-Agent": "meshops-drift"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        secret = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    target = urllib.parse.urlunsplit(parts)
    return urllib.request.Request(target, data=body, headers=headers, method=method)


class _Undelivered(Exception):
    """An attempt that failed: its Delivery, and whether another attempt could help."""

    def __init__(self, delivery: Delivery, helps: bool) -> None:
        super().__init__(delivery.reason)
        self.delivery, self.helps = delivery, helps


def _helps(exc: Exception) -> bool:
    return isinstance(exc, _Undelivered) and exc.helps


def _delivered(prepared: urllib.request.Request, timeout: float, attempt: int) -> Delivery:
    result, helps = _attempt(prepared, timeout, attempt)
    if not result.ok:
        raise _Undelivered(result, helps)
    return result


def _attempt(
    prepared: urllib.request.Request, timeout: float, attempt: int
) -> tuple[Delivery, bool]:
    """One request: the outcome, and whether another attempt could help (not after a 4xx)."""
    try:
        # Built per attempt: proxy settings (HTTPS_PROXY, NO_PROXY) are read from the environment.
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(prepared, timeout=timeout) as response:
            return Delivery(True, attempt, response.status), False
    except urllib.error.HTTPError as exc:
        exc.close()
        reason = f"HTTP {exc.code} {exc.reason}".rstrip()
        return Delivery(False, attempt, exc.code, reason), exc.code >= 500
    except urllib.error.URLError as exc:
        return Delivery(False, attempt, None, _reason(exc.reason, timeout)), True
    except (OSError, http.client.HTTPException) as exc:  # while reading the response
        return Delivery(False, attempt, None, _reason(exc, timeout)), True


def _reason(error: object, timeout: float) -> str:
    """The cause without the URL (urllib's messages may repeat it, credentials included)."""
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(error, str):
        return error
    strerror = getattr(error, "strerror", None)
    return str(strerror) if strerror else f"{type(error).__name__}: {error}".rstrip(": ")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Treat 3xx as a failure: a followed redirect would drop the POST body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
