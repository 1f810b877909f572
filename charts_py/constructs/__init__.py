"""Reusable cdk8s constructs: one mesh service, the mesh baseline, gateways, external services."""
