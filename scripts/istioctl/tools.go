//go:build tools

// Package tools pins the main package that build.sh compiles.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
)
