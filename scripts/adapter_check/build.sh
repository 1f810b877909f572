#!/usr/bin/env bash
# Build (once) and cache adapter-check: prometheus-adapter's own config loader and query
# builder (module pinned by go.mod/go.sum here) wrapped in main.go, so tests ask the real
# adapter code what it makes of meshops's adapter rules. Prints the binary's path on stdout
# (and nothing else); progress goes to stderr.
#
#   MESHOPS_ADAPTER_CHECK   an existing adapter-check binary: used as is.
#   XDG_CACHE_HOME          cache root (default ~/.cache).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${MESHOPS_ADAPTER_CHECK:-}" && -x "${MESHOPS_ADAPTER_CHECK}" ]]; then
	printf '%s\n' "${MESHOPS_ADAPTER_CHECK}"
	exit 0
fi
version="$(awk '$1 == "sigs.k8s.io/prometheus-adapter" { print $2; exit }' "$here/go.mod")"
[[ -n "$version" ]] || { echo "adapter-check: no prometheus-adapter pin in go.mod" >&2; exit 1; }
dest="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/adapter-check/$version"
if [[ ! -x "$dest/adapter-check" ]]; then
	echo "adapter-check: building prometheus-adapter $version's config check (first time takes minutes)..." >&2
	mkdir -p "$dest"
	start=$SECONDS
	(cd "$here" && go build -trimpath -o "$dest/adapter-check.tmp" .)
	mv "$dest/adapter-check.tmp" "$dest/adapter-check"
	echo "adapter-check: built in $((SECONDS - start))s" >&2
fi
printf '%s\n' "$dest/adapter-check"
