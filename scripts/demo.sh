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
bins="$(.venv/bin/python scripts/tools.py path controlplane)"
$meshops cluster down >/dev/null  # start from an empty cluster, so every run shows the same
$meshops cluster up
state="${MESHOPS_CLUSTER_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/meshops/local-cluster}"
export KUBECONFIG="$state/kubeconfig"

echo "== apply prod/prod-east (twice: the second run changes nothing)" >&2
$meshops apply --env prod --cluster prod-east | tail -n 1
$meshops apply --env prod --cluster prod-east

echo "== what the API server now holds in namespace shop" >&2
"$bins/kubectl" get deployments,destinationrules,virtualservices,authorizationpolicies -n shop

echo "== drift: the cluster against dist/ at git HEAD (exit 0: in sync)" >&2
$meshops drift --env prod --cluster prod-east

echo "== three hand edits, as people make them at 3 a.m." >&2
"$bins/kubectl" -n istio-system patch peerauthentication default --type merge \
  -p '{"spec":{"mtls":{"mode":"PERMISSIVE"}}}'
"$bins/kubectl" -n shop set image deployment/payment-v1 payment=registry.example.com/shop/payment:hotfix
"$bins/kubectl" -n shop label service cart owner=alice

echo "== drift again (exit 1: drift found), with every difference and who made it" >&2
$meshops drift --env prod --cluster prod-east --details || echo "(exit code $?)"
$meshops drift --env prod --cluster prod-east --format markdown --output drift-report.md || true
echo "Markdown report: drift-report.md (JSON: --format json, JUnit: --format junit)"

echo "== put the cluster back the way git says (Argo CD would do the same)" >&2
$meshops apply --env prod --cluster prod-east | tail -n 1
"$bins/kubectl" -n shop label service cart owner-  # a sync keeps hand-added fields: drift is what finds them
echo
echo "The control plane keeps running: export KUBECONFIG=$KUBECONFIG; stop it with: $meshops cluster down"
echo "The whole loop with real Argo CD (edit, synth, commit, sync, drift): meshops cluster up --argocd"
echo "(builds Argo CD once from its Go module, ~30 min on 2 cores; see docs/argocd.md)"
