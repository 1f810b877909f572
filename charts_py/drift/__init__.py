"""Live vs git, as a pipeline: fetch (the only I/O) -> normalise -> compare -> attribute ->
mask -> report. Each step is one module; results are typed (model.py)."""
