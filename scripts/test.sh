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
echo "== control-plane binaries (built once from pinned Go modules, then cached)" >&2
bash scripts/controlplane/build.sh >/dev/null
echo "== istioctl (built once from the pinned istio.io/istio module, then cached)" >&2
MESHOPS_TEST_ISTIOCTL="$(bash scripts/istioctl/build.sh)"
export MESHOPS_TEST_ISTIOCTL
echo "== adapter-check (prometheus-adapter's config loader, pinned Go module, cached)" >&2
bash scripts/adapter_check/build.sh >/dev/null
echo "== Istio chart values (pinned istio.io/istio module, cached by release)" >&2
.venv/bin/python scripts/fetch_istio_charts.py
echo "== helm (renders Istio's charts in the tests; built once from its pinned Go module)" >&2
bash scripts/helm/build.sh >/dev/null
echo "== pytest" >&2
.venv/bin/pytest "$@"
