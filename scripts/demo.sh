#!/usr/bin/env bash
# The main job on the built-in sample: render environments/ into dist/, start the local
# control plane (real kube-apiserver + etcd, built once from pinned Go modules), server-side
# apply prod/prod-east to it as Argo CD would, and show what landed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
meshops=.venv/bin/meshops

echo "== synth" >&2
$meshops synth
$meshops synth --check

echo "== control plane" >&2
bins="$(bash scripts/controlplane/build.sh)"
$meshops cluster up
state="${MESHOPS_CLUSTER_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/meshops/local-cluster}"
export KUBECONFIG="$state/kubeconfig"

echo "== apply prod/prod-east (twice: the second run changes nothing)" >&2
$meshops apply --env prod --cluster prod-east | tail -n 1
$meshops apply --env prod --cluster prod-east

echo "== what the API server now holds in namespace shop" >&2
"$bins/kubectl" get deployments,hpa,pdb,services,destinationrules,virtualservices,authorizationpolicies -n shop
echo
echo "The control plane keeps running: export KUBECONFIG=$KUBECONFIG; stop it with: $meshops cluster down"
