#!/usr/bin/env bash
# The test command: set up, lint (ruff), type-check (mypy), then run the test suite.
# Extra arguments go to pytest (e.g. `scripts/test.sh -k drift`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== ruff" >&2
.venv/bin/ruff check charts_py tests scripts
.venv/bin/ruff format --check charts_py tests scripts
echo "== mypy" >&2
.venv/bin/mypy
echo "== control-plane binaries (built once from pinned Go modules, then cached)" >&2
bash scripts/controlplane/build.sh >/dev/null
echo "== Istio chart values (pinned istio.io/istio module, cached by release)" >&2
.venv/bin/python scripts/fetch_istio_charts.py
echo "== helm (renders Istio's charts in the tests; built once from its pinned Go module)" >&2
bash scripts/helm/build.sh >/dev/null
echo "== pytest" >&2
.venv/bin/pytest "$@"
