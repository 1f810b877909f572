"""Every trick meshops plays for speed, in one place, and the one switch that turns them off.

With `MESHOPS_PLAIN=1` in the environment each runs the plain way, which gives the same
result more slowly: tests/unit/test_plain.py and tests/integration/test_plain.py prove that
synth writes the same dist/ bytes, drift the same reports and import the same files and
table either way.

- a forked worker (`fork`): render/checks.py validates while synth renders (and while import
  compares what it rendered again), drift/parse.py parses half of git's files while drift
  reads the cluster. Plain: the work is done here.
- start-up overlap (`process.imported`): `meshops synth` imports the pydantic models on a
  thread while node starts. Plain: imported in order.
- the cyclic collector paused (`process.collector_paused`) for a drift or import run. Plain:
  left on.
- dist/ staged on a thread (`render/dist.Stager`): synth's files are written beside dist/
  while the rest are rendered. Plain: written as they are handed over.
- exit without teardown (`process.leave`): the console script skips the interpreter's
  teardown (after a synth, 0.1-0.15 s). Plain: `sys.exit`.
"""

from __future__ import annotations

import os

SWITCH = "MESHOPS_PLAIN"


def plain() -> bool:
    """Whether every trick is off (`MESHOPS_PLAIN=1`), read at each use."""
    return os.environ.get(SWITCH) == "1"
