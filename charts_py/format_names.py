"""The output formats of every command, named once.

The CLI offers these as `--format` choices and the renderers are keyed by them
(tests/unit/test_cli_surface.py holds the renderers to these names). Plain data: importing it
costs nothing, so the CLI builds its parser without importing a renderer.
"""

from __future__ import annotations

DRIFT = ("text", "json", "markdown", "junit", "html")
"""`meshops drift --format`: the report (DESIGN.md, "Drift")."""
FLEET = ("html", "markdown")
"""`meshops report --fleet --format`: the fleet page."""
NOTIFY = ("json", "slack")
"""`meshops drift --notify-format` and `drift.notify.format`: the webhook's payload."""
VALIDATE = ("text", "json", "sarif", "junit")
"""`meshops validate --format`."""
AUDIT = ("markdown", "json")
"""`meshops audit --format`."""
COST = ("text", "json", "markdown")
"""`meshops cost --format`."""
PROPOSE = ("text", "json")
"""`meshops propose --format`."""
REVIEW = ("text", "markdown", "json")
"""`meshops review --format`: a terminal, a pull-request comment, the contract (docs/review.md)."""
PLAN_AMBIENT = ("text", "json")
"""`meshops plan-ambient --format`: a person's, the contract (docs/ambient.md)."""
