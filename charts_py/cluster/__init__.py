"""The local control plane: a real kube-apiserver and etcd on 127.0.0.1, no nodes.

Enough for apply, defaulting, CRD schemas, server-side apply, managedFields, dry-run and
RBAC, which is what drift depends on; started the way controller-runtime's envtest does.
"""
