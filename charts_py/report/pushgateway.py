"""Push a run's metrics to a Prometheus Pushgateway (`--pushgateway URL`), the convention for
batch jobs: a CronJob's pod is gone before Prometheus could scrape it.

https://prometheus.io/docs/practices/pushing/ and the Pushgateway's API
(https://github.com/prometheus/pushgateway#api). One PUT per run to the group
`job/meshops-drift/env/<env>/cluster/<cluster>`: PUT replaces every metric of the group, so a
status that disappeared since the last run cannot linger. The body is exactly the text of
metrics.py. Like the webhook, the push is best effort and bounded (notify.send): it never
changes the verdict or the exit code.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Sequence

from charts_py.drift.model import Report
from charts_py.report import metrics, notify

JOB = "meshops-drift"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PLAIN = re.compile(r"^[A-Za-z0-9._~-]+$")


def grouping(report: Report) -> tuple[tuple[str, str], ...]:
    """The grouping key; Prometheus scrapes the Pushgateway with `honor_labels: true`, so these
    labels (job included) are on every series the alert rules see."""
    return (("job", JOB), ("env", report.env), ("cluster", report.cluster))


def group_url(base: str, report: Report) -> str:
    """`<base>/metrics/job/…/env/…/cluster/…`; values outside a URL-safe alphabet use the
    Pushgateway's `label@base64/<base64url>` form (a `/` could not be escaped otherwise)."""
    path = "".join(f"/{_segment(name, value)}" for name, value in grouping(report))
    return base.rstrip("/") + "/metrics" + path


def _segment(name: str, value: str) -> str:
    if _PLAIN.match(value):
        return f"{name}/{value}"
    encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
    return f"{name}@base64/{encoded}"


def push(
    report: Report,
    base: str,
    seconds: float | None = None,
    *,
    timeout: float = notify.TIMEOUT,
    backoff: Sequence[float] = notify.BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> notify.Delivery:
    """PUT the run's metrics into its group; `len(backoff) + 1` attempts at most. Never raises."""
    body = metrics.text(report, seconds).encode()
    prepared = notify.request(group_url(base, report), body, "PUT", CONTENT_TYPE)
    return notify.send(prepared, timeout, backoff, sleep)
