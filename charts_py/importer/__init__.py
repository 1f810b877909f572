"""`meshops import`: read a running mesh (a cluster, or a folder of manifests) and write the
environment files that reproduce it, with every claim about the result verified."""
