"""`meshops import`: from a running mesh's objects to the environment files that reproduce
them, every claim verified by rendering those files again (docs/import.md).

sources (read a folder or a cluster) -> placement (each object into a typed field, an
extension, or left out of band) -> yamlfile (the environment file) -> verify (render it in
memory as synth does, compare with drift's normalisation) -> findings (what the chosen
profile would add) -> report.
"""
