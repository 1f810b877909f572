#!/usr/bin/env bash
# Create .venv and install meshops with its development tools. Idempotent; needs only
# python3 (3.11+) and node (cdk8s runs on jsii, which runs on node).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in python3 node; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required but not on PATH" >&2; exit 2; }
done

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
stamp=.venv/.meshops-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing meshops and its dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
