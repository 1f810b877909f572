#!/usr/bin/env bash
# The main job on the built-in sample: render environments/ (dev, staging, prod) into dist/
# and show what was generated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

.venv/bin/meshops synth
.venv/bin/meshops synth --check
echo
echo "Generated objects per environment/cluster and chart:"
find dist -name '*.yaml' -printf '%h\n' | sort | uniq -c
