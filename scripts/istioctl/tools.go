//go:build tools

// Package tools pins the main package that scripts/tools.py compiles.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
)
