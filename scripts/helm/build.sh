#!/usr/bin/env bash
# Build helm (the real renderer of Istio's charts) from its pinned Go module, once, into
# ~/.cache/meshops/helm/<version>/helm; print its path. MESHOPS_HELM naming an existing binary
# skips the build. tests/unit/test_istio_helm_template.py renders every control-plane
# Application's chart with it. First build: a few minutes on 2 cores (log in the cache folder).
# --cached: print the path only if already built, else exit 1 (never builds).
set -euo pipefail
VERSION=v3.22.0
if [ -n "${MESHOPS_HELM:-}" ]; then
  [ -x "$MESHOPS_HELM" ] || { echo "helm/build.sh: MESHOPS_HELM=$MESHOPS_HELM is not executable" >&2; exit 2; }
  echo "$MESHOPS_HELM"
  exit 0
fi
DIR="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/helm/$VERSION"
if [ -x "$DIR/helm" ]; then
  echo "$DIR/helm"
  exit 0
fi
[ "${1:-}" = "--cached" ] && exit 1
mkdir -p "$DIR"
TMP="$(mktemp -d "$DIR.build-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
echo "helm/build.sh: building helm.sh/helm/v3/cmd/helm@$VERSION (log: $DIR/build.log)" >&2
(cd "$TMP" && GOFLAGS=-mod=mod GOTOOLCHAIN=local GOBIN="$TMP/bin" \
  go install "helm.sh/helm/v3/cmd/helm@$VERSION") >"$DIR/build.log" 2>&1 &
BUILD=$!
while kill -0 "$BUILD" 2>/dev/null; do
  sleep 30
  kill -0 "$BUILD" 2>/dev/null && echo "helm/build.sh: still building ($(wc -l <"$DIR/build.log") log lines)" >&2
done
if ! wait "$BUILD"; then
  tail -20 "$DIR/build.log" >&2
  echo "helm/build.sh: build failed" >&2
  exit 2
fi
mv "$TMP/bin/helm" "$DIR/helm"
echo "$DIR/helm"
