//go:build tools

// Package tools pins the main package that scripts/tools.py compiles.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
)
