"""cdk8s Charts: the deployment units, one per concern, parameterised by (env, cluster)."""
