"""The nightly job's proposal: after a drift run found drift, adopt what can be adopted on a
new branch and say so in the report (`meshops drift --propose-branch PREFIX`).

It never changes the run's verdict or exit code: a proposal that cannot be made is an
`error` in the report's `proposal`, like a failed delivery is a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from charts_py.drift.model import ProposalLink, Report
from charts_py.errors import MeshopsError
from charts_py.propose import proposal, write


def branch_name(prefix: str, report: Report) -> str:
    """`<prefix>/<env>/<cluster>/<UTC timestamp>`: one branch per run, sorted by time."""
    stamp = re.sub(r"[^0-9TZ]", "", report.finished_at) or "unknown"
    return f"{prefix}/{report.env}/{report.cluster}/{stamp}"


def adopt(
    report: Report, *, repo: Path | None, dist: str, prefix: str, push: str | None
) -> ProposalLink:
    """Propose --adopt from `report` onto a new branch (pushed to `push`)."""
    options = proposal.Options(
        env=report.env, cluster=report.cluster, mode=proposal.Mode.ADOPT, repo=repo, dist=dist
    )
    branch = branch_name(prefix, report)
    try:
        inputs = proposal.read(options, report)
        write.check_branch(inputs, branch)
        planned = proposal.propose(options, inputs)
        if not planned.offered:
            return ProposalLink(None, None, 0, len(planned.refused))
        written = write.to_branch(planned, inputs, dist, branch, push)
    except MeshopsError as exc:
        return ProposalLink(None, None, 0, 0, error=str(exc))
    return ProposalLink(branch, written.commit, len(planned.offered), len(planned.refused))
