#!/usr/bin/env bash
# Build (once) and cache a pinned istioctl, for `meshops validate`'s second opinion
# (`istioctl analyze`) and for CI, which runs Istio's analyzers on dist/.
#
# The version is pinned by go.mod/go.sum in this directory: a pseudo-version of the
# istio.io/istio module (the module proxy refuses some release tags). Prints the path
# of the binary on stdout (and nothing else); progress goes to stderr.
#
#   ISTIOCTL         if set and it names an executable, it is used as is (no build).
#   XDG_CACHE_HOME   cache root (default ~/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '%s\n' "istioctl: $*" >&2; }

if [[ -n "${ISTIOCTL:-}" ]]; then
	[[ -f "$ISTIOCTL" && -x "$ISTIOCTL" ]] || { log "ISTIOCTL=$ISTIOCTL is not an executable file"; exit 1; }
	printf '%s\n' "$ISTIOCTL"
	exit 0
fi

# The pinned version, read straight from go.mod (no go invocation: the cached path is free).
version="$(awk '$1 == "require" && $2 == "istio.io/istio" { print $3; exit }' "$here/go.mod")"
[[ -n "$version" ]] || { log "cannot read the pinned istio.io/istio version from go.mod"; exit 1; }

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/istioctl"
dest="$cache_root/$version"
binary="$dest/istioctl"

if [[ -f "$binary" && -x "$binary" ]]; then
	printf '%s\n' "$binary"
	exit 0
fi

command -v go >/dev/null || { log "go is not on PATH"; exit 1; }

mkdir -p "$cache_root"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# Hermetic-ish settings: ignore any go.work, never touch go.mod/go.sum, no cgo,
# no VCS stamping (this directory lives in the project repo).
export GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

commit="${version##*-}"
ldflags="-s -w"
ldflags+=" -X istio.io/istio/pkg/version.buildVersion=$version"
ldflags+=" -X istio.io/istio/pkg/version.buildGitRevision=$commit"
ldflags+=" -X istio.io/istio/pkg/version.buildStatus=Clean"
ldflags+=" -X istio.io/istio/pkg/version.buildTag=$version"

quiet() { "$@" >/dev/null; }

step() { # label, then command...
	local label="$1" start=$SECONDS
	shift
	log "$label..."
	"$@" >&2
	log "  done in $((SECONDS - start))s"
}

step "downloading Go modules for istio.io/istio $version" \
	quiet go -C "$here" list -deps istio.io/istio/istioctl/cmd/istioctl
step "building istioctl $version (first time takes many minutes)" \
	go -C "$here" build -trimpath -ldflags "$ldflags" -o "$tmp/istioctl" istio.io/istio/istioctl/cmd/istioctl
[[ -x "$tmp/istioctl" ]] || { log "build did not produce istioctl"; exit 1; }
"$tmp/istioctl" version --remote=false >/dev/null || { log "the built istioctl does not run"; exit 1; }

# Publish atomically: a directory rename either lands the binary or not.
if [[ -e "$dest" && ! -x "$binary" ]]; then
	stale="$(mktemp -d "$cache_root/.stale.XXXXXX")"
	mv "$dest" "$stale/" 2>/dev/null || true
	rm -rf "$stale"
fi
mv "$tmp" "$dest" 2>/dev/null || true # (portable mv has no -T; see race handling below)
if [[ -d "$dest/${tmp##*/}" ]]; then
	# Lost a race with a concurrent build: mv put ours inside the winner's dir.
	rm -rf "${dest:?}/${tmp##*/}"
fi
[[ -x "$binary" ]] || { log "could not install into $dest"; exit 1; }
log "installed $binary"
printf '%s\n' "$binary"
