#!/usr/bin/env bash
# The test command: set up, lint (ruff), type-check (mypy), check the layer contracts
# (import-linter, [tool.importlinter] in pyproject.toml), then run the test suite.
# Extra arguments go to pytest (e.g. `scripts/test.sh -k drift`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== ruff" >&2
.venv/bin/ruff check charts_py tests scripts
.venv/bin/ruff format --check charts_py tests scripts
echo "== mypy" >&2
.venv/bin/mypy
echo "== import-linter (layers)" >&2
.venv/bin/lint-imports --no-cache
echo "== pinned Go-built tools (scripts/tools.toml): the control plane, istioctl, helm and" \
  "adapter-check, built once, then cached" >&2
.venv/bin/python scripts/tools.py build controlplane istioctl helm adapter-check
echo "== Istio chart values (pinned istio.io/istio module, cached by release)" >&2
.venv/bin/python scripts/fetch_istio_charts.py
echo "== pytest" >&2
.venv/bin/pytest "$@"
