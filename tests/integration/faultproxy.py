"""A small fault-injecting HTTP proxy on 127.0.0.1 in front of the real API server.

Clients speak plain HTTP to the proxy (with the admin bearer token); the proxy forwards
every request over TLS to the control plane, except those a `Fault` matches: those get a
chosen status (429 with Retry-After, 503, 410 Expired) or a stall longer than the client's
read timeout. Everything is bounded: faults fire a fixed number of times, stalls have a
fixed length, and the server stops with the `with` block. Not a mock: every answer that is
not a fault is the real server's.
"""

from __future__ import annotations

import http.client
import http.server
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from charts_py.cluster import controlplane

MAX_REQUESTS = 5000
"""A runaway retry loop fails the test instead of spinning: beyond this, every answer is 500."""


@dataclass
class Fault:
    """Answer requests whose path+query contains `match` (and `also`, when set) with
    `status`, or stall `stall` seconds then drop the connection; `times` times."""

    match: str
    status: int = 0
    stall: float = 0.0
    times: int = 1
    retry_after: str | None = None
    also: str = ""
    hits: int = 0

    def applies(self, target: str) -> bool:
        return self.hits < self.times and self.match in target and self.also in target


@dataclass
class Proxy:
    """The running proxy: its URL, its faults, and what it saw."""

    url: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[float, str, int]] = field(default_factory=list)  # time, target, status
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, target: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.applies(target):
                    fault.hits += 1
                    return fault
        return None

    def record(self, target: str, status: int) -> None:
        with self.lock:
            self.seen.append((time.monotonic(), target, status))

    def requests_to(self, part: str) -> list[tuple[float, str, int]]:
        with self.lock:
            return [s for s in self.seen if part in s[1]]


def _status_body(code: int) -> bytes:
    reasons = {410: "Expired", 429: "TooManyRequests", 503: "ServiceUnavailable"}
    message = {
        410: "The provided continue parameter is too old to display a consistent list result.",
        429: "Too many requests, please try again later.",
    }.get(code, "injected failure")
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reasons.get(code, "InternalError"),
        "code": code,
    }
    return json.dumps(status).encode()


def _handler(proxy: Proxy, upstream: urllib.parse.SplitResult, tls: ssl.SSLContext) -> type:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test asserts on `proxy.seen` instead."""

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if len(proxy.seen) >= MAX_REQUESTS:
                self._answer(500, _status_body(500), {})
                return
            fault = proxy.pick(self.path)
            if fault and fault.stall:
                proxy.record(self.path, 0)
                time.sleep(fault.stall)
                self.close_connection = True
                return
            if fault:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._answer(fault.status, _status_body(fault.status), extra)
                return
            self._forward(body)

        def _forward(self, body: bytes) -> None:
            conn = http.client.HTTPSConnection(
                upstream.hostname, upstream.port, context=tls, timeout=30
            )
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                keep = {"Content-Type": answer.getheader("Content-Type", "application/json")}
                self._answer(answer.status, data, keep)
            finally:
                conn.close()

        def _answer(self, code: int, data: bytes, headers: dict[str, str]) -> None:
            proxy.record(self.path, code)
            self.send_response(code)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    return Handler


@contextmanager
def running(cluster: controlplane.LocalCluster) -> Iterator[Proxy]:
    """A proxy to `cluster` on a free 127.0.0.1 port, stopped on exit."""
    upstream = urllib.parse.urlsplit(cluster.server)
    tls = ssl.create_default_context(cafile=str(Path(cluster.state_dir) / "pki" / "ca.crt"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    proxy = Proxy(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(proxy, upstream, tls)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def kubeconfig(cluster: controlplane.LocalCluster, proxy: Proxy, path: Path) -> Path:
    """The cluster's kubeconfig, pointed at the proxy (same admin token)."""
    config = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    config["clusters"][0]["cluster"] = {"server": proxy.url}
    path.write_text(yaml.safe_dump(config))
    return path
