#!/usr/bin/env bash
# Build (once) and cache a pinned Argo CD for the e2e tier and `meshops cluster up --argocd`.
#
# One `argocd` binary serves every component, chosen by the name it is run as
# (argo-cd cmd/main.go switches on basename(argv[0])): argocd-application-controller,
# argocd-repo-server, argocd-applicationset-controller, ... are symlinks to it. The
# repo-server also runs git-verify-wrapper.sh (argo-cd's hack/) for every manifest
# generation, so it is copied from the pinned module next to the binary.
#
# The version is pinned by go.mod/go.sum here; argo-cd v3.6 needs Go >= 1.27, which
# the go command fetches from the module proxy (the `toolchain` line of go.mod).
# Prints the directory holding the binaries on stdout (and nothing else); progress
# goes to stderr.
#
#   MESHOPS_ARGOCD_BIN   an existing argocd binary: used as is (symlinks are made in
#                        a cache directory next to nothing else).
#   XDG_CACHE_HOME       cache root (default ~/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
toolchain="$(awk '$1 == "toolchain" { print $2; exit }' "$here/go.mod")"

log() { printf '%s\n' "argocd: $*" >&2; }

# Names the binary answers to; each is a symlink to `argocd`.
components=(argocd-application-controller argocd-repo-server argocd-applicationset-controller argocd-git-ask-pass)

complete() { # dir
	local c
	[[ -x "$1/argocd" && -x "$1/git-verify-wrapper.sh" ]] || return 1
	for c in "${components[@]}"; do [[ -L "$1/$c" ]] || return 1; done
}

link_components() { # dir
	local c
	for c in "${components[@]}"; do ln -sfn argocd "$1/$c"; done
}

modver() { # go.mod module
	awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}
version="$(modver "$here/go.mod" github.com/argoproj/argo-cd/v3)"
[[ -n "$version" ]] || { log "cannot read the pinned argo-cd version from go.mod"; exit 1; }

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/argocd"
dest="$cache_root/$version"

if [[ -n "${MESHOPS_ARGOCD_BIN:-}" ]]; then
	[[ -x "$MESHOPS_ARGOCD_BIN" ]] || { log "MESHOPS_ARGOCD_BIN=$MESHOPS_ARGOCD_BIN is not an executable"; exit 2; }
	dest="$cache_root/external"
	mkdir -p "$dest"
	ln -sfn "$(readlink -f "$MESHOPS_ARGOCD_BIN")" "$dest/argocd"
fi

if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

command -v go >/dev/null || { log "go is not on PATH"; exit 1; }
export GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN="$toolchain"

moddir() { go -C "$here" list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3; }

step() { # label, then command...
	local label="$1" start=$SECONDS; shift
	log "$label..."
	"$@" >&2
	log "  done in $((SECONDS - start))s"
}

if [[ -n "${MESHOPS_ARGOCD_BIN:-}" ]]; then
	step "downloading argo-cd $version module (for git-verify-wrapper.sh)" \
		go -C "$here" mod download github.com/argoproj/argo-cd/v3
	install -m 0755 "$(moddir)/hack/git-verify-wrapper.sh" "$dest/git-verify-wrapper.sh"
	link_components "$dest"
	printf '%s\n' "$dest"
	exit 0
fi

mkdir -p "$cache_root"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

step "fetching Go toolchain $toolchain (module proxy)" go version
step "downloading Go modules for argo-cd $version" \
	go -C "$here" mod download
pkg=github.com/argoproj/argo-cd/v3/common
ldflags="-s -w -X $pkg.version=${version#v} -X $pkg.gitTag=$version -X $pkg.gitTreeState=clean"
ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
# A heartbeat: the link of this one binary takes minutes with no output of its own.
( while sleep 60; do log "  still building ($((SECONDS / 60)) min so far)"; done ) &
beat=$!
trap 'kill "$beat" 2>/dev/null || true; rm -rf "$tmp"' EXIT  # errexit applies in traps: a failed kill would exit 1
step "building argocd $version (first time: 20+ minutes on 2 cores)" \
	go -C "$here" build -trimpath -ldflags "$ldflags" -o "$tmp/argocd" github.com/argoproj/argo-cd/v3/cmd
kill "$beat" 2>/dev/null || true
install -m 0755 "$(moddir)/hack/git-verify-wrapper.sh" "$tmp/git-verify-wrapper.sh"
link_components "$tmp"
complete "$tmp" || { log "build did not produce argocd and its links"; exit 1; }

# Publish atomically: a directory rename either lands the complete set or not.
if [[ -e "$dest" ]]; then
	stale="$(mktemp -d "$cache_root/.stale.XXXXXX")"
	mv "$dest" "$stale/" 2>/dev/null || true
	rm -rf "$stale"
fi
mv "$tmp" "$dest"
if [[ -d "$dest/${tmp##*/}" ]]; then
	rm -rf "${dest:?}/${tmp##*/}"
fi
complete "$dest" || { log "could not install into $dest"; exit 1; }
log "installed into $dest"
printf '%s\n' "$dest"
