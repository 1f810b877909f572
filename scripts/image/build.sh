#!/usr/bin/env bash
# Build the nightly drift job's image from the repository's Dockerfile with podman (daemonless,
# Debian's package), once per content; print its reference (localhost/meshops-drift:<key>).
#
# The key is the hash of everything the image is made of: Dockerfile, .dockerignore, the pinned
# requirements, pyproject.toml, README.md, charts_py's files and this script (which says how the
# base is made). A built image is kept in podman's storage and saved to
# ~/.cache/meshops/image/<key>.tar, so a CI machine whose cache folder is restored loads it
# instead of building (seconds, not minutes).
#
# The base: the Dockerfile's default is the official python:3.11-slim-bookworm. No container
# registry is reachable here, so this script bootstraps the same Debian release from Debian's
# packages (mmdebstrap: minbase + python3, python3-venv, ca-certificates; docs, man pages and
# translations excluded), imports it as localhost/meshops-base:bookworm-<recipe hash> (cached as
# ~/.cache/meshops/image/base-<recipe hash>.tar) and passes it as the BASE build argument.
# MESHOPS_IMAGE_BASE=python:3.11-slim-bookworm (or any image with python3, venv and apt) builds
# on that instead. --cached: print the reference only if already built or cached, else exit 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF="$PWD/scripts/image/containers.conf"
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
BASE_PACKAGES=python3,python3-venv,ca-certificates
DIR="${XDG_CACHE_HOME:-$HOME/.cache}/meshops/image"

command -v podman >/dev/null || {
  echo "image/build.sh: podman is not on PATH (apt-get install podman runc; .ci/run installs it)" >&2
  exit 2
}

content_key() {
  {
    sha256sum Dockerfile .dockerignore scripts/image/requirements.txt pyproject.toml README.md \
      scripts/image/build.sh scripts/image/containers.conf
    find charts_py -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z |
      xargs -0 sha256sum
    echo "base=${MESHOPS_IMAGE_BASE:-debootstrapped}"
  } | sha256sum | cut -c1-16
}

KEY="$(content_key)"
IMAGE="localhost/meshops-drift:$KEY"
if podman image exists "$IMAGE"; then
  echo "$IMAGE"
  exit 0
fi
if [ -f "$DIR/$KEY.tar" ]; then
  echo "image/build.sh: loading $IMAGE from $DIR/$KEY.tar" >&2
  podman load --quiet --input "$DIR/$KEY.tar" >/dev/null
  echo "$IMAGE"
  exit 0
fi
[ "${1:-}" = "--cached" ] && exit 1
mkdir -p "$DIR"

bootstrapped_base() {
  local recipe base tmp
  recipe="$(echo "$SUITE $MIRROR $BASE_PACKAGES minbase nodocs" | sha256sum | cut -c1-12)"
  base="localhost/meshops-base:$SUITE-$recipe"
  if ! podman image exists "$base"; then
    if [ ! -f "$DIR/base-$recipe.tar" ]; then
      echo "image/build.sh: bootstrapping Debian $SUITE with mmdebstrap (log: $DIR/base.log)" >&2
      command -v mmdebstrap >/dev/null || {
        echo "image/build.sh: mmdebstrap is not on PATH (apt-get install mmdebstrap)" >&2
        exit 2
      }
      tmp="$(mktemp --suffix=.tar "$DIR/partial-base-$recipe.XXXXXX")"
      mmdebstrap --variant=minbase --include="$BASE_PACKAGES" \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        "$SUITE" "$tmp" "$MIRROR" >"$DIR/base.log" 2>&1 || {
        tail -20 "$DIR/base.log" >&2
        rm -f "$tmp"
        echo "image/build.sh: mmdebstrap failed" >&2
        exit 2
      }
      mv "$tmp" "$DIR/base-$recipe.tar"
    fi
    # The official image's environment: an imported root file system has none.
    podman import --quiet \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
      "$DIR/base-$recipe.tar" "$base" >/dev/null
  fi
  echo "$base"
}

if [ -n "${MESHOPS_IMAGE_BASE:-}" ]; then
  BASE="$MESHOPS_IMAGE_BASE" PULL=missing
else
  BASE="$(bootstrapped_base)" PULL=never
fi
# Behind a TLS-intercepting proxy (the host's pip trusts its CA through PIP_CERT), pip in the
# build trusts the same bundle, mounted for the build only.
CA=()
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then
  CA=(--volume "$(realpath "$PIP_CERT"):/run/build-ca.crt:ro" --build-arg PIP_CERT=/run/build-ca.crt)
fi
echo "image/build.sh: building $IMAGE on $BASE (log: $DIR/build.log)" >&2
podman build --network host --pull="$PULL" "${CA[@]}" --build-arg "BASE=$BASE" --tag "$IMAGE" \
  --file Dockerfile . >"$DIR/build.log" 2>&1 || {
  tail -30 "$DIR/build.log" >&2
  echo "image/build.sh: podman build failed" >&2
  exit 2
}
tmp="$(mktemp "$DIR/$KEY.XXXXXX")"
podman save --quiet --format oci-archive --output "$tmp" "$IMAGE"
mv -f "$tmp" "$DIR/$KEY.tar"
# One image per content is enough: older saved images are never loaded again.
find "$DIR" -maxdepth 1 -name '*.tar' ! -name "$KEY.tar" ! -name 'base-*.tar' -delete
echo "$IMAGE"
