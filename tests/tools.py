"""External tools the tests run (promtool): found on PATH, or the test fails under CI.

Locally a missing tool skips with the command that installs it; when `CI=true` it fails, so a
CI machine without the tool can never pass by skipping (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil

import pytest

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
    message = f"{binary} not on PATH: {INSTALL.get(binary, 'install it')}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
