"""A review as text (terminal), Markdown (a pull-request comment) or JSON (the contract)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby
from typing import Any

from charts_py import provenance
from charts_py.review.context import MESH_ROOT
from charts_py.review.model import Reported, Review, Risk


def to_json(review: Review) -> str:
    return json.dumps(review.to_json(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def headline(review: Review) -> str:
    """One line: the sides, how many changes, the highest risk and the count per risk."""
    sides = f"{review.base.shown} -> {review.head.shown}"
    if not review.changes:
        return f"{sides}: no mesh changes"
    counts = ", ".join(f"{n} {r}" for r, n in review.summary()["byRisk"].items() if n)
    risk = review.risk.label if review.risk else "none"
    plural = "s" if len(review.changes) != 1 else ""
    return f"{sides}: {len(review.changes)} change{plural}, highest risk {risk} ({counts})"


def text(review: Review) -> str:
    lines = [f"review {headline(review)}"]
    lines += [f"note: {n}" for n in review.notes]
    for env, changes in groupby(review.changes, key=lambda c: c.env):
        lines.append(f"{env}:")
        for c in changes:
            where = ", ".join(c.clusters) or "-"
            lines.append(
                f"  {c.risk.label:<8} {c.kind:<14} {_who(c)} [{where}]: "
                f"{value(c.before)} -> {value(c.after)}"
            )
            lines.append(f"      {c.why}")
            lines.append(f"      source: {source(c.source)}")
            lines.append(f"      blast radius: {_blast(c)}")
    return "\n".join(lines) + "\n"


def markdown(review: Review) -> str:
    """One summary line, a table per environment, the details folded away."""
    out = [f"**meshops review** {_md_headline(review)}", ""]
    out += [f"> **Note:** {n}" for n in review.notes]
    if review.notes:
        out.append("")
    for env, grouped in groupby(review.changes, key=lambda c: c.env):
        changes = list(grouped)
        out += [
            f"### {env}",
            "",
            "| risk | service | change | before → after | clusters | source |",
        ]
        out.append("|---|---|---|---|---|---|")
        for c in changes:
            cells = [
                f"**{c.risk.label}**" if c.risk >= Risk.HIGH else c.risk.label,
                _cell(_who(c)),
                c.kind,
                _cell(f"{value(c.before)} → {value(c.after)}"),
                ", ".join(c.clusters) or "-",
                _cell(source(c.source)),
            ]
            out.append("| " + " | ".join(cells) + " |")
        count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
        out += ["", f"<details><summary>Details ({env}: {count})</summary>", ""]
        for c in changes:
            out += _details(c)
        out += ["</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_headline(review: Review) -> str:
    base, head = review.base, review.head
    sides = f"`{base.ref}` ({_sha(base.commit)}) → `{head.ref}`" + (
        f" ({_sha(head.commit)})" if head.commit else ""
    )
    if not review.changes:
        return f"{sides}: no mesh changes."
    counts = ", ".join(f"{n} {r}" for r, n in review.summary()["byRisk"].items() if n)
    risk = review.risk.label if review.risk else "none"
    return f"{sides}: **{len(review.changes)} changes**, highest risk **{risk}** ({counts})."


def _details(c: Reported) -> list[str]:
    objects = ", ".join(
        sorted({f"{o['kind']} {o['namespace']}/{o['name']}".replace(" /", " ") for o in c.objects})
    )
    return [
        f"- **{c.risk.label}** {c.kind} of {_who(c)} in {', '.join(c.clusters) or '-'}: {c.why}",
        f"  - before: `{_compact(c.before)}`",
        f"  - after: `{_compact(c.after)}`",
        f"  - source: {source(c.source)}",
        f"  - blast radius: {_blast(c)}",
        f"  - objects: {objects}",
        "",
    ]


def value(v: Any) -> str:
    """A before or after value in a few words: `v1 90, v2 10`, `5s`, `-` for none."""
    if v is None:
        return "-"
    if isinstance(v, dict):
        return ", ".join(f"{k} {value(x)}" for k, x in v.items()) or "{}"
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    return str(v)


def source(src: dict[str, Any]) -> str:
    try:
        return provenance.describe(provenance.origin_from_json(src))
    except KeyError:
        return json.dumps(src, sort_keys=True)


def _who(c: Reported) -> str:
    if c.service is None:
        if c.namespace == MESH_ROOT:
            return "mesh-wide"
        return f"namespace {c.namespace}" if c.namespace else "cluster-wide"
    return f"{c.service} ({c.namespace})" if c.namespace else c.service


def _blast(c: Reported) -> str:
    if c.service is None and c.namespace in ("", MESH_ROOT):
        return f"every workload the change applies to ({_who(c)})"
    callers = ", ".join(c.blast.callers) or "none"
    hosts = ", ".join(c.blast.ingress_hosts) or "none"
    whole = f"the whole namespace {c.namespace}: " if c.service is None else ""
    return f"{whole}callers {callers}; ingress hosts {hosts}"


def _compact(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False).replace("`", "'")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sha(commit: str | None) -> str:
    return commit[:12] if commit else "working tree"


RENDERERS: dict[str, Callable[[Review], str]] = {
    "text": text,
    "markdown": markdown,
    "json": to_json,
}
"""The renderer of each `--format` (format_names.REVIEW)."""
