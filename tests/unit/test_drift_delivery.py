"""Report delivery: the HTML page, webhook notifications against a real local HTTP server, the
Prometheus textfile, and `meshops drift` delivering without changing its exit code."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from charts_py import cli
from charts_py.drift import html as html_report
from charts_py.drift import metrics, notify
from charts_py.drift.model import (
    Change,
    Difference,
    GitSource,
    ObjectRef,
    Report,
    Result,
    Severity,
    Status,
)
from charts_py.provenance import ProfileDefault

GIT = GitSource("HEAD", "0123456789abcdef0123456789abcdef01234567", "dist/prod/prod-east")
TIME = "2025-06-01T02:03:04Z"
HOSTILE = '<script>alert("x")</script>'
PEER_AUTH = ObjectRef("security.istio.io/v1", "PeerAuthentication", "istio-system", "default")
SECRET = ObjectRef("v1", "Secret", "shop", "db")
REVIEWS = ObjectRef("apps/v1", "Deployment", "shop", "reviews-v1")
RATINGS = ObjectRef("v1", "Service", "shop", "ratings")
HOSTILE_MAP = ObjectRef("v1", "ConfigMap", "shop", HOSTILE)
ACCOUNT = ObjectRef("v1", "ServiceAccount", "shop", "in-sync-account")
POLICY = ObjectRef("security.istio.io/v1", "AuthorizationPolicy", "shop", "deny-all")

MTLS = Difference(
    path="/spec/mtls/mode",
    change=Change.CHANGED,
    desired="STRICT",
    live="PERMISSIVE",
    manager="kubectl-edit",
    operation="Update",
    time=TIME,
    severity=Severity.CRITICAL,
    source=ProfileDefault(profile="prod", key="mtlsMode", override="policy.mtlsMode"),
)
PASSWORD = Difference(
    path="/data/password",
    change=Change.CHANGED,
    desired="<masked:1f2e3d4c>",
    live="<masked:9a8b7c6d>",
    manager="kubectl-edit",
    operation="Update",
    time=TIME,
    severity=Severity.HIGH,
)
DEBUG_ENV = Difference(
    path="/spec/template/spec/containers/0/env/1",
    change=Change.ADDED,
    desired=None,
    live={"name": "DEBUG", "value": "1"},
    manager="kubectl-patch",
    operation="Update",
    time=TIME,
    severity=Severity.MEDIUM,
)
MARKUP = Difference(
    path="/data/<b>",
    change=Change.CHANGED,
    desired='"><img src="http://evil.example/x.png">',
    live=HOSTILE,
    manager="a&b",
    operation="Apply",
)


def report(*results: Result, errors: tuple[str, ...] = ()) -> Report:
    return Report(
        env="prod",
        cluster="prod-east",
        git=GIT,
        started_at=TIME,
        finished_at="2025-06-01T02:03:46Z",
        results=results,
        errors=errors,
    )


def drifted() -> Report:
    return report(
        Result(ACCOUNT, Status.IN_SYNC),
        Result(REVIEWS, Status.MODIFIED, (DEBUG_ENV,), ignored=2, severity=Severity.MEDIUM),
        Result(HOSTILE_MAP, Status.MODIFIED, (MARKUP,), severity=Severity.LOW),
        Result(PEER_AUTH, Status.MODIFIED, (MTLS,), severity=Severity.CRITICAL),
        Result(SECRET, Status.MODIFIED, (PASSWORD,), severity=Severity.HIGH),
        Result(RATINGS, Status.MISSING, severity=Severity.HIGH),
    )


def incomplete() -> Report:
    unknown = Result(POLICY, Status.UNKNOWN, error=f"forbidden: {HOSTILE}")
    return dataclasses.replace(
        drifted(), results=(*drifted().results, unknown), errors=("Gateway: forbidden",)
    )


def clean() -> Report:
    return report(Result(ACCOUNT, Status.IN_SYNC))


# --- HTML -------------------------------------------------------------------------------------

VOID = {"meta", "br", "col", "img", "link", "input", "hr", "wbr", "source"}


class Page(HTMLParser):
    """Checks nesting as it parses; keeps the text, the tags and every attribute."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[tuple[tuple[str, ...], str]] = []
        self.feed(text)
        self.close()
        assert self.stack == [], f"unclosed: {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.chunks.append((tuple(self.stack), data))

    @property
    def text(self) -> str:
        return "".join(data for stack, data in self.chunks if "style" not in stack)

    def text_in(self, tag: str) -> str:
        return "".join(data for stack, data in self.chunks if tag in stack)


def test_html_is_one_well_formed_self_contained_page() -> None:
    source = html_report.page(incomplete())
    assert source.startswith("<!DOCTYPE html>") and source == html_report.page(incomplete())
    page = Page(source)
    names = [tag for tag, _ in page.tags]
    assert names.count("html") == names.count("style") == 1
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(names)
    urls = [v for _, attrs in page.tags for k, v in attrs.items() if k in ("src", "href")]
    assert urls == []
    css = page.text_in("style")
    assert "url(" not in css and "@import" not in css and "http" not in css
    assert page.text_in("title") == "Drift report: prod / prod-east"


def test_html_escapes_every_value_from_the_cluster() -> None:
    page = Page(html_report.page(incomplete()))
    assert HOSTILE in page.text  # shown as text: the parser found no tag in it
    assert json.dumps(MARKUP.desired) in page.text and "/data/<b>" in page.text
    assert f"forbidden: {HOSTILE}" in page.text and "a&b" in page.text


def test_html_shows_verdict_source_and_objects_by_severity() -> None:
    page = Page(html_report.page(incomplete()))
    banner = next(attrs["class"] for tag, attrs in page.tags if tag == "div")
    assert banner == "banner incomplete"
    text = page.text
    assert "INCOMPLETE: could not check 1 of 7 objects and 1 run error" in text
    for expected in (GIT.commit, GIT.ref, GIT.path, TIME, "(42s)", "Gateway: forbidden"):
        assert expected in text
    headings = ("Critical (1)", "High (2)", "Medium (1)", "Low (1)", "Could not check")
    assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
    assert "<masked:9a8b7c6d>" in text and "2 differences ignored by rules." in text
    assert "In git, missing from the cluster." in text
    assert "in-sync-account" in page.text_in("details")  # listed, collapsed
    assert "in-sync-account" not in text.split("In sync (")[0]


def test_html_puts_desired_and_live_side_by_side_with_the_manager() -> None:
    page = Page(html_report.page(drifted()))
    cells = [(s, d.strip()) for s, d in page.chunks if "td" in s and d.strip()]
    row = [d for _, d in cells[cells.index(next(c for c in cells if "/spec/mtls/mode" in c[1])) :]]
    assert row[:6] == [
        "/spec/mtls/mode",
        "changed",
        '"STRICT"',
        '"PERMISSIVE"',
        "kubectl-edit",
        "Update",
    ]
    assert "(absent)" in page.text  # the added env var has no desired value


@pytest.mark.parametrize(("build", "banner"), [(clean, "in-sync"), (drifted, "drift")])
def test_html_banner_follows_the_verdict(build: Any, banner: str) -> None:
    page = Page(html_report.page(build()))
    assert next(a["class"] for t, a in page.tags if t == "div") == f"banner {banner}"


# --- notify: payloads -------------------------------------------------------------------------


def many() -> Report:
    """Twelve divergent objects, the critical one listed last."""
    results = [
        Result(
            ObjectRef("v1", "ConfigMap", "shop", f"c{i:02}"), Status.EXTRA, severity=Severity.LOW
        )
        for i in range(11)
    ]
    return report(*results, Result(PEER_AUTH, Status.MODIFIED, (MTLS,), severity=Severity.CRITICAL))


def test_json_summary_is_compact_and_lists_the_worst_ten() -> None:
    body = json.loads(notify.payload(many(), "json"))
    assert (body["env"], body["cluster"], body["complete"], body["exitCode"]) == (
        "prod",
        "prod-east",
        True,
        1,
    )
    assert body["verdict"] == "Drift found: 12 of 12 objects differ from git"
    assert body["git"]["commit"] == GIT.commit and body["summary"]["extra"] == 11
    assert len(body["objects"]) == notify.TOP == 10
    assert body["objects"][0] == {
        "kind": "PeerAuthentication",
        "namespace": "istio-system",
        "name": "default",
        "status": "modified",
        "severity": "critical",
        "path": "/spec/mtls/mode",
        "manager": "kubectl-edit",
        "source": {"profile": "prod", "key": "mtlsMode", "override": "policy.mtlsMode"},
    }
    assert "PERMISSIVE" not in json.dumps(body)  # no values, only where and who


def test_slack_message_has_text_and_blocks_with_escaped_markup() -> None:
    body = json.loads(notify.payload(incomplete(), "slack"))
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("meshops drift prod/prod-east: INCOMPLETE")
    header, *sections = body["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) <= 150
    assert all(s["type"] == "section" and s["text"]["type"] == "mrkdwn" for s in sections)
    lines = sections[-1]["text"]["text"].splitlines()
    assert lines[0] == (
        "• *critical* modified PeerAuthentication istio-system/default `/spec/mtls/mode` "
        "by kubectl-edit (git: profile prod default mtlsMode (override: policy.mtlsMode))"
    )
    assert any("ConfigMap shop/&lt;script&gt;" in line for line in lines)
    assert "<script>" not in json.dumps(body["blocks"])


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:pa55@hooks.example.com/services/T0/B0/s3cr3t?token=abc#x",
            "https://hooks.example.com/services/…",
        ),
        ("http://127.0.0.1:9000/hook?key=abc", "http://127.0.0.1:9000/hook"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
    ],
)
def test_redact_drops_credentials_query_and_deep_paths(url: str, shown: str) -> None:
    assert notify.redact(url) == shown


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/x", "http://", "hooks.example"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        notify.check_url(url)


# --- notify: delivery to a real local server --------------------------------------------------


@dataclasses.dataclass
class Hook:
    """A webhook on 127.0.0.1 answering with `statuses` in turn (the last one repeats)."""

    statuses: list[int]
    requests: list[tuple[str, dict[str, str], bytes]] = dataclasses.field(default_factory=list)
    url: str = ""


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook([200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, dict(self.headers), body))
            status = state.statuses[min(len(state.requests), len(state.statuses)) - 1]
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/drift"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def test_delivers_json_once_on_success(hook: Hook) -> None:
    pauses: list[float] = []
    sent = notify.deliver(drifted(), hook.url + "?token=t", "json", sleep=pauses.append)
    assert sent == notify.Delivery(True, 1, 200) and pauses == []
    [(path, headers, body)] = hook.requests
    assert path == "/hooks/drift?token=t" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == notify.summary(drifted())


def test_delivers_slack_shape(hook: Hook) -> None:
    assert notify.deliver(drifted(), hook.url, "slack").ok
    body = json.loads(hook.requests[0][2])
    assert set(body) == {"text", "blocks"} and body["blocks"][0]["type"] == "header"


def test_credentials_in_the_url_become_basic_auth(hook: Hook) -> None:
    url = hook.url.replace("http://", "http://bot:p%40ss@")
    assert notify.deliver(clean(), url).ok
    path, headers, _ = hook.requests[0]
    assert path == "/hooks/drift"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"bot:p@ss").decode()


def test_retries_a_5xx_after_the_backoff(hook: Hook) -> None:
    hook.statuses = [500, 200]
    pauses: list[float] = []
    sent = notify.deliver(drifted(), hook.url, sleep=pauses.append)
    assert sent == notify.Delivery(True, 2, 200)
    assert pauses == [0.5] and len(hook.requests) == 2


def test_gives_up_after_three_attempts(hook: Hook) -> None:
    hook.statuses = [503]
    pauses: list[float] = []
    sent = notify.deliver(drifted(), hook.url, sleep=pauses.append)
    assert sent == notify.Delivery(False, 3, 503, "HTTP 503 Service Unavailable")
    assert pauses == [0.5, 1.0] and len(hook.requests) == 3


@pytest.mark.parametrize(
    ("status", "reason"), [(404, "HTTP 404 Not Found"), (302, "HTTP 302 Found")]
)
def test_does_not_retry_client_errors_or_follow_redirects(
    hook: Hook, status: int, reason: str
) -> None:
    hook.statuses = [status]
    sent = notify.deliver(drifted(), hook.url, sleep=pytest.fail)
    assert sent == notify.Delivery(False, 1, status, reason) and len(hook.requests) == 1


def test_a_server_that_never_answers_costs_bounded_time() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never replies
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        started = time.monotonic()
        sent = notify.deliver(drifted(), url, timeout=0.2, backoff=(0.05, 0.05))
        took = time.monotonic() - started
    assert sent == notify.Delivery(False, 3, None, "no answer within 0.2s")
    assert took < 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_connection_refused_is_retried_then_reported() -> None:
    pauses: list[float] = []
    sent = notify.deliver(drifted(), f"http://127.0.0.1:{free_port()}/", sleep=pauses.append)
    assert sent == notify.Delivery(False, 3, None, "Connection refused") and pauses == [0.5, 1.0]


# --- metrics ----------------------------------------------------------------------------------

COMMENT = re.compile(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)")
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"([a-zA-Z_:][a-zA-Z0-9_:]*)\{{((?:{LABEL})(?:,{LABEL})*)\}} (-?[0-9.e+]+)")


def parse_metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every line matches the exposition grammar; HELP and TYPE come before their samples."""
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    described: dict[str, set[str]] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if comment := COMMENT.fullmatch(line):
            described.setdefault(comment[2], set()).add(comment[1])
            continue
        sample = SAMPLE.fullmatch(line)
        assert sample, f"not an exposition line: {line!r}"
        assert described.get(sample[1]) == {"HELP", "TYPE"}, sample[1]
        labels = tuple(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', sample[2]))
        assert list(labels) == sorted(labels)
        samples[sample[1], labels] = float(sample[3])
    return samples


def objects(status: str, severity: str, env: str = "prod", cluster: str = "prod-east") -> Any:
    return (
        "meshops_drift_objects",
        (("cluster", cluster), ("env", env), ("severity", severity), ("status", status)),
    )


def test_metrics_count_objects_by_status_and_severity() -> None:
    text = metrics.text(incomplete())
    samples = parse_metrics(text)
    assert "# TYPE meshops_drift_objects gauge" in text.splitlines()
    assert samples[objects("modified", "critical")] == 1
    assert samples[objects("modified", "high")] == 1 and samples[objects("missing", "high")] == 1
    assert samples[objects("in-sync", "none")] == 1 and samples[objects("unknown", "none")] == 1
    assert samples[objects("extra", "critical")] == 0  # zeros too: alerts resolve, not vanish
    assert sum(v for (name, _), v in samples.items() if name == "meshops_drift_objects") == 7
    base = (("cluster", "prod-east"), ("env", "prod"))
    assert samples["meshops_drift_complete", base] == 0
    assert samples["meshops_drift_duration_seconds", base] == 42
    assert samples["meshops_drift_last_run_timestamp_seconds", base] == 1748743426
    assert parse_metrics(metrics.text(clean()))["meshops_drift_complete", base] == 1


def test_metrics_are_sorted_and_deterministic() -> None:
    built = incomplete()
    shuffled = dataclasses.replace(built, results=tuple(reversed(built.results)))
    assert metrics.text(built) == metrics.text(shuffled)
    names = [line.split("{")[0] for line in metrics.text(built).splitlines() if line[0] != "#"]
    assert names == sorted(names)


def test_metrics_escape_label_values() -> None:
    odd = dataclasses.replace(clean(), cluster='east "1"\\\nb')
    line = next(line for line in metrics.text(odd).splitlines() if "complete{" in line)
    assert line == 'meshops_drift_complete{cluster="east \\"1\\"\\\\\\nb",env="prod"} 1'
    parse_metrics(metrics.text(odd))


def test_metrics_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "meshops_drift.prom"
    target.write_text("old\n")
    metrics.write(drifted(), target)
    assert target.read_text() == metrics.text(drifted())
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["meshops_drift.prom"]  # no temp file left
    with pytest.raises(FileNotFoundError):
        metrics.write(drifted(), tmp_path / "absent" / "x.prom")


# --- the CLI: delivery never changes the exit code --------------------------------------------

CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {{app.kubernetes.io/managed-by: meshops, meshops.dev/environment: dev,
           meshops.dev/cluster: dev-1}}
data: {{mode: {mode}}}
"""


def git(cwd: Path, *args: str) -> None:
    cmd = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args]
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with dist/dev/dev-1 holding one ConfigMap (mode: strict)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    path = tmp_path / "repo"
    folder = path / "dist/dev/dev-1/app"
    folder.mkdir(parents=True)
    (folder / "ConfigMap.core.shop.settings.yaml").write_text(CONFIG_MAP.format(mode="strict"))
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "dist")
    return path


def drift_cli(repo: Path, tmp_path: Path, mode: str, *extra: str) -> int:
    live = tmp_path / f"live-{mode}.yaml"
    live.write_text(CONFIG_MAP.format(mode=mode))
    argv = ["drift", "--env", "dev", "--repo", str(repo), "--live-dir", str(live), *extra]
    return cli.main(argv)


def test_cli_failed_notify_warns_and_keeps_the_exit_code(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://bot:hunter2@127.0.0.1:{free_port()}/services/T0/secret?token=abc"
    prom, page = tmp_path / "drift.prom", tmp_path / "drift.html"
    args = ("--notify", url, "--metrics-file", str(prom), "--format", "html", "--output", str(page))
    assert drift_cli(repo, tmp_path, "loose", *args) == 1  # drift found, delivery failed
    stderr = capsys.readouterr().err
    port = url.split(":")[3].split("/")[0]
    warning = f"meshops: warning: notify http://127.0.0.1:{port}/services/…: Connection refused"
    assert f"{warning} (3 attempts)" in stderr.splitlines()
    assert "hunter2" not in stderr and "abc" not in stderr and "secret" not in stderr
    assert "/data/mode" in Page(page.read_text()).text
    samples = parse_metrics(prom.read_text())
    assert samples[objects("modified", "medium", "dev", "dev-1")] == 1


def test_cli_delivers_when_in_sync(
    repo: Path, tmp_path: Path, hook: Hook, capsys: pytest.CaptureFixture[str]
) -> None:
    code = drift_cli(repo, tmp_path, "strict", "--notify", hook.url, "--notify-format", "slack")
    assert code == 0
    assert "notify http://127.0.0.1:" in capsys.readouterr().err
    assert json.loads(hook.requests[0][2])["text"].endswith("In sync: all 1 object match git")


def test_cli_rejects_a_url_it_could_never_deliver_to(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["drift", "--env", "dev", "--notify", "file:///etc/passwd"])
    assert exit_.value.code == 2 and "not an http(s) URL" in capsys.readouterr().err
