#!/usr/bin/env bash
# Build (once) and cache a pinned kube-apiserver, kubectl and etcd for the local
# test control plane, envtest-style.
#
# Versions are pinned by go.mod/go.sum in this directory (kube-apiserver,
# kubectl) and in ./etcd (etcd). Prints the directory holding the binaries on
# stdout (and nothing else); progress goes to stderr.
#
#   KUBEBUILDER_ASSETS   if set and it holds etcd and kube-apiserver, it is used as is.
#   XDG_CACHE_HOME       cache root (default ~/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '%s\n' "controlplane: $*" >&2; }

# Executable files that must all be present for a directory to be usable.
bins=(kube-apiserver etcd kubectl)

complete() { # dir
	local b
	for b in "${bins[@]}"; do [[ -f "$1/$b" && -x "$1/$b" ]] || return 1; done
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/etcd" && -x "${KUBEBUILDER_ASSETS}/kube-apiserver" ]]; then
	printf '%s\n' "${KUBEBUILDER_ASSETS}"
	exit 0
fi

# Version of a required module, read straight from a go.mod (no go invocation,
# so the cached path costs nothing).
modver() { # go.mod module
	awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}
k8s_ver="$(modver "$here/go.mod" k8s.io/kubernetes)"
etcd_ver="$(modver "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)"
[[ -n "$k8s_ver" && -n "$etcd_ver" ]] || { log "cannot read pinned versions from go.mod"; exit 1; }

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/controlplane"
dest="$cache_root/k8s-$k8s_ver-etcd-$etcd_ver"

if complete "$dest"; then
	printf '%s\n' "$dest"
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

k8s_minor="${k8s_ver#v1.}"; k8s_minor="${k8s_minor%%.*}"
k8s_date="$(cd "$here" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitVersion=$k8s_ver"
	k8s_ldflags+=" -X $pkg.gitTreeState=archive -X $pkg.gitCommit= -X $pkg.buildDate=${k8s_date:-1970-01-01T00:00:00Z}"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_ver"

quiet() { "$@" >/dev/null; }

step() { # label, then command...
	local label="$1" start=$SECONDS; shift
	log "$label..."
	"$@" >&2
	log "  done in $((SECONDS - start))s"
}

step "downloading Go modules for kubernetes $k8s_ver" \
	quiet go -C "$here" list -deps k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
step "downloading Go modules for etcd $etcd_ver" \
	quiet go -C "$here/etcd" list -deps go.etcd.io/etcd/server/v3
step "building kube-apiserver $k8s_ver (first time takes minutes)" \
	go -C "$here" build -trimpath -ldflags "$k8s_ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
step "building kubectl $k8s_ver" \
	go -C "$here" build -trimpath -ldflags "$k8s_ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
step "building etcd $etcd_ver" \
	go -C "$here/etcd" build -trimpath -ldflags "$etcd_ldflags" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
complete "$tmp" || { log "build did not produce all of: ${bins[*]}"; exit 1; }

# Publish atomically: a directory rename either lands the complete set or not.
if [[ -e "$dest" ]]; then
	# Left over and incomplete (complete ones returned above): move it aside.
	stale="$(mktemp -d "$cache_root/.stale.XXXXXX")"
	mv "$dest" "$stale/" 2>/dev/null || true
	rm -rf "$stale"
fi
mv "$tmp" "$dest" # (portable mv has no -T; see race handling below)
if [[ -d "$dest/${tmp##*/}" ]]; then
	# Lost a race with a concurrent build: mv put ours inside the winner's dir.
	rm -rf "${dest:?}/${tmp##*/}"
fi
complete "$dest" || { log "could not install into $dest"; exit 1; }
log "installed into $dest"
printf '%s\n' "$dest"
