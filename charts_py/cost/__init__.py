"""`meshops cost`: what an environment's requests cost per month, and what Sidecar scoping saves.

Computed from the typed Environment (the same effective requests and scaling bounds the
Deployments and HPAs get), priced with the environment file's `cost:` rates. `estimate`
computes, `formats` renders text, Markdown and JSON.
"""
