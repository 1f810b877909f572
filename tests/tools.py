"""External tools the tests run: found on PATH (promtool, the Pushgateway), or the pinned
Go-built ones (charts_py/tools.py); a missing one fails the test under CI.

Locally a missing tool skips with the command that installs it; when `CI=true` it fails, so a
CI machine without the tool can never pass by skipping (.ci/run installs and builds them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

from charts_py import tools

INSTALL = {
    "promtool": "apt-get install prometheus (Debian package; .ci/run installs it)",
    "prometheus-pushgateway": "apt-get install prometheus-pushgateway (.ci/run installs it)",
    "podman": "apt-get install podman runc mmdebstrap uidmap (.ci/run installs them)",
    "go": "install Go (the control-plane build needs it too)",
}


def require(binary: str) -> str:
    """The path of `binary`, or skip (fail under CI=true) saying how to install it."""
    path = shutil.which(binary)
    if path:
        return path
    _missing(f"{binary} not on PATH: {INSTALL.get(binary, 'install it')}")


def pinned(name: str) -> Path:
    """A pinned tool as the product finds it (its override, or built): never built here,
    since a first build takes minutes (scripts/test.sh builds them before pytest)."""
    found = tools.path(name)
    if found is not None:
        return found
    override = tools.TOOLS[name].override
    _missing(f"{name} not built: scripts/tools.py build {name} (or set {override})")


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
