"""Generated documentation: one README.md per environment, derived from the typed Environment.

Data flows config -> docs, like config -> constructs -> charts: the page is computed from the
same inputs as the manifests (never parsed back out of rendered YAML), so it cannot describe a
mesh other than the one synth writes next to it.
"""
