"""The consoles and exit codes every command shares."""

from __future__ import annotations

import sys

from rich.console import Console

EXIT_OK, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2
"""0 success (in sync), 1 a check found differences (drift, stale dist/), 2 could not run."""

# Off a terminal (CI logs, pipes) rich would assume 80 columns and cut table cells.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)
