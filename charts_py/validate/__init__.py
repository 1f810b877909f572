"""Checks on manifests (any directory of YAML): schemas now; mesh rules and policy later."""
