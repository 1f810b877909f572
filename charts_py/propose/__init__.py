"""From drift to a fix: `meshops propose`.

One drift run's differences (a JSON report, or a live run), the provenance side file and the
environment file, all at one commit, become either an *adoption* (the environment-file edit
that makes synth produce the live values, verified by rendering again before it is offered)
or a *revert* (what restores git, and whether an Argo CD sync does). Pipeline, one module
each: `report` (read a report) -> `plan` (sort differences by their source) -> `edit`
(round-trip YAML) -> `verify` (re-render, compare as drift does) -> `write` (work tree or a
new branch); `revert` and `output` beside them; `proposal` runs them in order.
"""
