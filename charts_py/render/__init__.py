"""Build one App per (env, cluster), collect objects as dicts, write dist/ deterministically."""
