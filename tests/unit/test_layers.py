"""Only synth starts Node: the other commands run without cdk8s, jsii or the constructs.

import-linter (scripts/test.sh) proves the static import graph; these tests prove the
running commands, in fresh interpreters, load none of it (a lazy import, a plugin or a
module-level side effect would not show in the graph).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = ("cdk8s", "jsii", "constructs")

# Run a CLI command in-process, then print its exit code and every module it loaded.
RUN_COMMAND = """
import json, sys
from charts_py.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# Import modules by name, then print every module that loaded.
IMPORT_MODULES = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({"modules": sorted(sys.modules)}))
"""


def _probe(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(result.pop("modules"))
    result["loaded"] = sorted(m for m in NODE_MODULES if m in modules)
    return dict(result)


def _live_dir(env: str) -> str:
    """The first cluster folder of dist/<env>: a live dump that is in sync with git."""
    return str(next(p for p in sorted((REPO / "dist" / env).iterdir()) if p.is_dir()))


@pytest.mark.parametrize(
    "command",
    [
        ["cost", "--env", "prod"],
        ["validate", "--env", "dev", "dist/dev"],
        ["drift", "--env", "dev", "--live-dir", "LIVE", "--format", "json"],
    ],
    ids=lambda c: c[0],
)
def test_commands_other_than_synth_do_not_load_cdk8s(command: list[str]) -> None:
    args = [_live_dir("dev") if a == "LIVE" else a for a in command]
    result = _probe(RUN_COMMAND, *args)
    assert result["code"] == 0
    assert result["loaded"] == []


@pytest.mark.parametrize(
    "modules",
    [
        ("charts_py.apply", "charts_py.distdir", "charts_py.kubeapi"),  # meshops apply
        ("charts_py.recovery.restore", "charts_py.report.formats"),  # meshops restore
        ("charts_py.recovery.backup",),  # meshops backup
        ("charts_py.cluster.controlplane",),  # meshops cluster
        ("charts_py.drift.run", "charts_py.report.notify", "charts_py.report.metrics"),
    ],
    ids=["apply", "restore", "backup", "cluster", "drift"],
)
def test_command_modules_that_need_a_cluster_do_not_load_cdk8s(modules: tuple[str, ...]) -> None:
    assert _probe(IMPORT_MODULES, "charts_py.cli", *modules)["loaded"] == []


def test_the_probe_sees_synth_load_cdk8s() -> None:
    """The positive control: synth does load cdk8s, and the probe reports it."""
    loaded = _probe(IMPORT_MODULES, "charts_py.render.synth")["loaded"]
    assert set(loaded) == set(NODE_MODULES)


def test_what_synth_imports_while_node_starts_does_not_load_cdk8s() -> None:
    """synth imports these on a thread while importing cdk8s waits for node: they
    overlap only if they never need node themselves."""
    from charts_py.cli import author

    assert _probe(IMPORT_MODULES, *author.PURE_PYTHON)["loaded"] == []


def test_what_import_imports_while_node_starts_does_not_load_cdk8s() -> None:
    """meshops import does the same with the Kubernetes client and the models."""
    from charts_py.cli import adopt

    assert _probe(IMPORT_MODULES, *adopt.READERS)["loaded"] == []
