#!/usr/bin/env bash
# Regenerate scripts/image/requirements.txt after changing pyproject.toml's dependencies: pip
# resolves meshops's dependencies and its build backend ([build-system] requires) afresh for
# Python 3.11 (the image's), and each is pinned to the version pip picks (its installation
# report; nothing is installed). tests/unit/test_image_pins.py checks the result.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  { echo "image/lock.sh: needs python3 3.11, the image's Python" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
backend="$(python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")')"
mapfile -t backend <<<"$backend"
"$tmp/venv/bin/pip" install --quiet --dry-run --ignore-installed --report "$tmp/report.json" \
  . "${backend[@]}"
{
  sed -n '/^#/p' scripts/image/requirements.txt
  python3 - "$tmp/report.json" <<'PY'
import json, sys
installs = json.load(open(sys.argv[1]))["install"]
for item in sorted(installs, key=lambda i: i["metadata"]["name"].lower()):
    if item["metadata"]["name"] != "meshops":
        print(f"{item['metadata']['name']}=={item['metadata']['version']}")
PY
} >"$tmp/requirements.txt"
mv "$tmp/requirements.txt" scripts/image/requirements.txt
