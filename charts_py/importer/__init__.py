"""`meshops import`: read a running mesh (a cluster, or a folder of manifests) and write the
environment files that reproduce it, with every claim about the result verified
(docs/import.md).

sources (read a folder or a cluster) -> placement (each object into a typed field, an
extension, or left out of band) -> yamlfile (the environment file) -> verify (render it in
memory as synth does, compare with drift's normalisation) -> findings (what the chosen
profile would add) -> report.
"""
