"""The one place that runs `istioctl analyze`: find the binary, run it on files, parse JSON.

istioctl is optional: `ISTIOCTL` names a binary (CI names the pinned one: `scripts/tools.py
path istioctl`), else the one on PATH is used, else none. It runs offline
(`--use-kube=false`) on the files meshops validates, over all namespaces, and reports in JSON;
its exit status is 0 with `--output json` whatever it finds, so anything else means it could
not run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from charts_py import tools
from charts_py.errors import MeshopsError

ENV = tools.TOOLS["istioctl"].override
TIMEOUT = 600.0
"""Seconds one analysis may take (a cluster of dist/ takes a few on a quiet machine)."""

_REFERENCE = re.compile(r"^(?P<file>.*?)(?::(?P<line>\d+))?$")


class IstioctlError(MeshopsError):
    """istioctl was asked for but could not run, or said something we cannot read."""


@dataclass(frozen=True)
class Message:
    """One analyzer message about one object."""

    code: str
    level: str
    """Istio's level: Error, Warning or Info."""
    kind: str
    namespace: str
    name: str
    file: str
    line: int | None
    text: str

    @property
    def url(self) -> str:
        """Istio's page for the code (istioctl's own link carries its version, v0.0 for a
        pseudo-version build)."""
        return f"https://istio.io/latest/docs/reference/config/analysis/{self.code.lower()}/"


def locate() -> str | None:
    """The istioctl to use: `$ISTIOCTL` (which must exist), else `istioctl` on PATH, else None.
    A pinned build in the cache is not picked up unasked: what validate reports never
    depends on what a cache happens to hold."""
    try:
        named = tools.overridden("istioctl")
    except tools.ToolError as e:
        raise IstioctlError(str(e)) from e
    return str(named) if named else shutil.which("istioctl")


def version(binary: str) -> str:
    """The client version istioctl reports (`--remote=false`: no cluster is asked)."""
    out = _run([binary, "version", "--remote=false", "--short"], "version").strip()
    return out.splitlines()[0].removeprefix("client version: ") if out else "unknown"


@dataclass(frozen=True)
class Analysis:
    """istioctl's messages, and what it logged about files it could not read (skipped)."""

    messages: list[Message]
    skipped: list[str]


def analyze(binary: str, files: Sequence[str], namespace: str = "default") -> Analysis:
    """istioctl's messages about the objects in `files` (read together, as one cluster).
    Objects without a namespace are in `namespace`; istioctl then reports only on that
    namespace (and cluster-scoped objects) unless it is `default`."""
    if not files:
        return Analysis([], [])
    where = ["--all-namespaces"] if namespace == "default" else ["--namespace", namespace]
    command = [binary, "analyze", "--use-kube=false", *where, "--output", "json"]
    out = _run([*command, *files], "analyze")
    # istioctl logs a line per object it cannot parse on stdout, before the JSON.
    lines = out.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("[")), len(lines))
    logged = [line.split("\t")[-1] for line in lines[:start] if "\twarn\t" in line]
    try:
        raw = json.loads("\n".join(lines[start:]) or "[]")
    except json.JSONDecodeError as e:
        raise IstioctlError(f"istioctl analyze: output is not JSON ({e}): {out[:200]!r}") from e
    if not isinstance(raw, list):
        raise IstioctlError(f"istioctl analyze: expected a JSON list, got {type(raw).__name__}")
    return Analysis([_message(item) for item in raw if isinstance(item, dict)], logged)


def _run(command: list[str], what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise IstioctlError(f"istioctl {what}: {e}") from e
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise IstioctlError(
            f"istioctl {what} exited {done.returncode}: {detail[-1] if detail else 'no output'}"
        )
    return done.stdout


def _message(item: dict[str, object]) -> Message:
    """A message from istioctl's JSON: origin is `Kind namespace/name` (or `Kind name`),
    reference is `file[:line]`."""
    kind, _, full = str(item.get("origin", "")).partition(" ")
    namespace, _, name = full.rpartition("/")
    reference = _REFERENCE.match(str(item.get("reference", "")))
    file, line = (reference["file"], reference["line"]) if reference else ("", None)
    return Message(
        code=str(item.get("code", "")),
        level=str(item.get("level", "")),
        kind=kind,
        namespace=namespace,
        name=name,
        file=file,
        line=int(line) if line else None,
        text=str(item.get("message", "")),
    )
