"""Backup and restore (practices 11, 14): live state to the snapshot branch, and back.

`backup` LISTs what meshops manages in one (env, cluster) and commits it, cleaned for
re-apply, beside drift's snapshots; `restore` re-applies a backup (or git's desired state)
the way Argo CD syncs and lets drift judge the result. `clean`, `secrets` and `layout` are
the pure parts both share. Only the CLI imports this package.
"""
