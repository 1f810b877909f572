"""Git over smart HTTP on 127.0.0.1: `git http-backend` (CGI) behind a tiny HTTP server.

Argo CD's repo-server and ApplicationSet controller fetch with git and go-git over HTTP(S);
a `file://` URL is refused for application sources, and `git daemon` speaks a protocol
Argo CD does not. So the local sandbox and the e2e tier serve a repository the way a git
host does, with git's own server side, read-only (http-backend refuses receive-pack to an
unauthenticated client). A commit in the served repository is what Argo CD sees next.

Run as `python -m charts_py.cluster.gitserver ROOT PORT`: it serves every repository
under ROOT (bare, or a working tree) at http://127.0.0.1:PORT/<path>.

With `credentials` ("user:password", `server()`), every request must carry them as HTTP Basic
authentication, as a git host asks for them, and an authenticated client may also push
(http-backend accepts receive-pack once `REMOTE_USER` is set): how the image tier proves that
the nightly job clones and pushes with the credentials of its Secret.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import os
import shutil
import subprocess
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CGI_TIMEOUT = 60.0
"""A fetch of this repository takes well under a second; anything longer is stuck."""


class Handler(BaseHTTPRequestHandler):
    """One request -> one `git http-backend` run, its CGI headers turned into HTTP."""

    root: Path
    credentials: str | None = None

    def do_GET(self) -> None:
        self._backend(b"")

    def do_POST(self) -> None:
        self._backend(self._body())

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()

    def _user(self) -> str | None:
        """The authenticated user; None after answering 401 (wrong or missing credentials)."""
        if self.credentials is None:
            return ""
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        given = base64.b64decode(encoded or b"").decode("utf-8", "replace")
        if scheme.lower() == "basic" and hmac.compare_digest(given, self.credentials):
            return given.partition(":")[0]
        self.send_response(HTTPStatus.UNAUTHORIZED)
        self.send_header("WWW-Authenticate", 'Basic realm="meshops"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _backend(self, body: bytes) -> None:
        user = self._user()
        if user is None:
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "GIT_HTTP_MAX_REQUEST_BUFFER": "100M",
        }
        if user:
            env["REMOTE_USER"] = user
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        try:
            done = subprocess.run(
                [_git(), "http-backend"], input=body, env=env, capture_output=True,
                timeout=CGI_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            self.send_error(HTTPStatus.GATEWAY_TIMEOUT, "git http-backend timed out")
            return
        self._reply(done.stdout)

    def _reply(self, cgi: bytes) -> None:
        head, _, payload = cgi.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = cgi.partition(b"\n\n")
        status, headers = HTTPStatus.OK.value, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        raise SystemExit("gitserver: git is not on PATH")
    return found


def server(root: Path, port: int, credentials: str | None = None) -> ThreadingHTTPServer:
    """A server for the repositories under `root` on 127.0.0.1:`port` (0: any free port),
    requiring `credentials` ("user:password") when given; call `serve_forever` to run it."""
    bound = {"root": root.resolve(), "credentials": credentials}
    return ThreadingHTTPServer(("127.0.0.1", port), type("BoundHandler", (Handler,), bound))


def serve(root: Path, port: int) -> None:
    """Serve the repositories under `root` on 127.0.0.1:`port` until killed."""
    with server(root, port) as running:
        running.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m charts_py.cluster.gitserver")
    parser.add_argument("root", type=Path)
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    serve(args.root, args.port)


if __name__ == "__main__":
    main()
