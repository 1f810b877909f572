"""The fleet page (`meshops report --fleet`): the latest drift run of every environment and
cluster on the snapshot branch, on one HTML or Markdown page.

Per cluster: findings by state and by severity, the oldest open finding, the last run, and
two flags that keep a quiet row from passing for a clean one: `incomplete` (the last run
could not check everything) and `stale` (the next scheduled run was due more than `GRACE`
ago and none has reported since: the schedule is the environment file's `drift.schedule`).

It reads only each cluster's latest findings index (report/history.py), with four git
calls whatever the fleet's size or age: the branch's environments, their clusters, their
snapshot folders (one `ls-tree` each), and the indexes (one `cat-file --batch`); plus one
for the environment files' schedules.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError

from charts_py import gitrepo
from charts_py.config import environment
from charts_py.config.model import Drift
from charts_py.drift.model import Severity, State
from charts_py.errors import ConfigError, MeshopsError
from charts_py.report import history

GRACE = timedelta(hours=1)
"""How long a scheduled run may take to report before its cluster counts as stale."""
OPEN_STATES = (State.NEW, State.PERSISTING, State.REGRESSED, State.WAIVED)


@dataclass(frozen=True)
class Cluster:
    """One row: a cluster's latest index, and when its next run was due."""

    index: history.Index
    due: datetime | None
    stale: bool

    @property
    def name(self) -> str:
        return f"{self.index.env}/{self.index.cluster}"

    def by_state(self) -> dict[str, int]:
        counts = {str(s): 0 for s in OPEN_STATES}
        for entry in self.index.findings:
            if entry.state in OPEN_STATES:
                counts[str(entry.state)] += 1
        return counts

    def by_severity(self) -> dict[str, int]:
        """Open, unwaived findings by severity."""
        counts = {str(s): 0 for s in Severity}
        for entry in self.unwaived():
            if entry.severity in counts:
                counts[entry.severity] += 1
        return counts

    def unwaived(self) -> list[history.Entry]:
        return [e for e in self.index.findings if e.state != State.WAIVED]

    def oldest(self) -> history.Entry | None:
        return min(self.unwaived(), key=lambda e: e.first_seen, default=None)


def read(repo: gitrepo.Repo, branch: str, ref: str, now: datetime) -> list[Cluster]:
    """Every cluster's latest run on `branch` (the local branch, else origin's), judged
    against the schedules in the environment files at `ref`."""
    commit = _tip(repo, branch)
    envs = [e for e in gitrepo.listings(repo, commit, [""])[""] if "." not in e]
    clusters = gitrepo.listings(repo, commit, envs)
    pairs = [(env, name) for env in envs for name in clusters.get(env, [])]
    latest = history.latest(repo, commit, pairs)
    schedules = _schedules(repo, ref, sorted({env for env, _ in latest}))
    rows = []
    for (env, _), index in sorted(latest.items()):
        due = _next_run(schedules[env], index.started_at)
        rows.append(Cluster(index, due, due is not None and now > due + GRACE))
    return rows


def _tip(repo: gitrepo.Repo, branch: str) -> str:
    for ref in history.history_refs(branch, "origin"):
        commit = gitrepo.tip(repo, ref)
        if commit is not None:
            return commit
    raise ConfigError("--branch", branch, "no such branch here or on origin: no drift run yet")


def _schedules(repo: gitrepo.Repo, ref: str, envs: list[str]) -> dict[str, str]:
    """Each environment's `drift.schedule` at `ref` (the default where the file is gone)."""
    commit = gitrepo.resolve(repo, ref)
    paths = {f"environments/{env}.yaml": env for env in envs}
    texts = gitrepo.read_files(repo, commit, paths)
    out = {}
    for path, env in paths.items():
        data = texts.get(path)
        rules = environment.drift_rules(data.decode(), path) if data is not None else Drift()
        out[env] = rules.schedule
    return out


def _next_run(schedule: str, started_at: str) -> datetime | None:
    """When the run after the one at `started_at` was due (None: the schedule cannot say)."""
    try:
        return next(CronSim(schedule, history.when(started_at)))
    except (CronSimError, StopIteration, MeshopsError):
        return None


# --- rendering ----------------------------------------------------------------------------


def summary(rows: list[Cluster]) -> dict[str, Any]:
    """Totals over the fleet: clusters, stale and incomplete ones, findings by state."""
    states = {str(s): sum(r.by_state()[str(s)] for r in rows) for s in OPEN_STATES}
    return {
        "clusters": len(rows),
        "stale": sum(r.stale for r in rows),
        "incomplete": sum(not r.index.complete for r in rows),
        **states,
    }


def flags(row: Cluster) -> list[str]:
    return [*(["stale"] if row.stale else []), *(["incomplete"] if not row.index.complete else [])]


def markdown(rows: list[Cluster], now: datetime) -> str:
    """The fleet as a Markdown table, flagged clusters first."""
    total = summary(rows)
    head = (
        f"# Drift across the fleet\n\n{_totals(total)}\n\nAs of {_time(now)}; a cluster is "
        f"stale when its next scheduled run was due more than {_hours(GRACE)} ago.\n\n"
    )
    columns = ["Cluster", "Flags", "Last run", *(str(s) for s in OPEN_STATES)]
    columns += [*(str(s) for s in Severity), "Oldest open finding"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in _ordered(rows):
        oldest = row.oldest()
        cells = [row.name, ", ".join(f"**{f}**" for f in flags(row)) or "ok", row.index.started_at]
        cells += [str(n) for n in row.by_state().values()]
        cells += [str(n) for n in row.by_severity().values()]
        cells.append(_oldest(oldest) if oldest else "-")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return head + "\n".join(lines) + "\n"


def page(rows: list[Cluster], now: datetime) -> str:
    """The fleet as one self-contained HTML page (inline CSS, every value escaped)."""
    total = summary(rows)
    columns = ["Cluster", "Flags", "Last run", *(str(s) for s in OPEN_STATES)]
    columns += [*(str(s) for s in Severity), "Oldest open finding"]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(_html_row(row) for row in _ordered(rows))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Drift across the fleet</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<h1>Drift across the fleet</h1>\n"
        f'<p class="totals">{_e(_totals(total))}</p>\n'
        f'<p class="note">As of {_e(_time(now))}; a cluster is stale when its next scheduled '
        f"run was due more than {_e(_hours(GRACE))} ago. Stale is not clean.</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"
        "</body>\n</html>\n"
    )


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
 margin:0 auto;padding:24px;max-width:1500px;background:#fafafa}
h1{font-size:22px;margin:0 0 12px}.totals{font-weight:600}.note{color:#555}
table{border-collapse:collapse;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.name,td.when,td.flags{white-space:nowrap}
td.zero{color:#bbb}tr.stale td{background:#fff4e5}tr.incomplete td{background:#f3e8fd}
.flag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;color:#fff;
 margin-right:4px}.flag.stale{background:#d9480f}.flag.incomplete{background:#7b2cbf}
.flag.ok{background:#2b8a3e}code{font:12px ui-monospace,Menlo,Consolas,monospace}
"""


def _html_row(row: Cluster) -> str:
    marks = flags(row)
    badges = "".join(f'<span class="flag {f}">{f}</span>' for f in marks)
    badges = badges or '<span class="flag ok">ok</span>'
    counts = [*row.by_state().values(), *row.by_severity().values()]
    numbers = "".join(f'<td class="n{" zero" if n == 0 else ""}">{n}</td>' for n in counts)
    oldest = _e(_oldest(found)) if (found := row.oldest()) else "-"
    return (
        f'<tr class="{" ".join(marks)}"><td class="name">{_e(row.name)}</td>'
        f'<td class="flags">{badges}</td><td class="when">{_e(row.index.started_at)}</td>'
        f"{numbers}<td>{oldest}</td></tr>"
    )


def _ordered(rows: list[Cluster]) -> list[Cluster]:
    """Flagged clusters first, then by open findings, then by name."""
    return sorted(rows, key=lambda r: (not flags(r), -len(r.unwaived()), r.name))


def _oldest(entry: history.Entry) -> str:
    where = f"{entry.namespace}/{entry.name}" if entry.namespace else entry.name
    return f"{entry.kind} {where} {entry.path or '(whole object)'} since {entry.first_seen}"


def _totals(total: dict[str, Any]) -> str:
    states = ", ".join(f"{total[str(s)]} {s}" for s in OPEN_STATES)
    return (
        f"{total['clusters']} clusters, {total['stale']} stale, "
        f"{total['incomplete']} incomplete; findings: {states}"
    )


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
