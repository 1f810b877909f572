"""Check PrometheusRule groups: with `promtool check rules` when it is on PATH, else a
syntax check of our own.

promtool (Debian package `prometheus`) is the authority: it parses every expression and
template exactly as Prometheus will. Without it we still catch what typically goes wrong
by hand: unbalanced parentheses, brackets, braces or quotes, unknown function names, and
unbalanced `{{ }}` in templates. Messages from the fallback say so, so a clean result is
never mistaken for promtool's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from charts_py import yamlio
from charts_py.jsonpointer import pointer

Problem = tuple[int, str, str]
"""(index of the object checked, JSON Pointer into it, message)."""

FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "avg_over_time",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "count_over_time",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "deg",
        "delta",
        "deriv",
        "double_exponential_smoothing",
        "exp",
        "floor",
        "histogram_avg",
        "histogram_count",
        "histogram_fraction",
        "histogram_quantile",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_sum",
        "holt_winters",
        "hour",
        "idelta",
        "increase",
        "info",
        "irate",
        "label_join",
        "label_replace",
        "last_over_time",
        "ln",
        "log10",
        "log2",
        "mad_over_time",
        "max_over_time",
        "min_over_time",
        "minute",
        "month",
        "pi",
        "predict_linear",
        "present_over_time",
        "quantile_over_time",
        "rad",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sin",
        "sinh",
        "sort",
        "sort_by_label",
        "sort_by_label_desc",
        "sort_desc",
        "sqrt",
        "stddev_over_time",
        "stdvar_over_time",
        "sum_over_time",
        "tan",
        "tanh",
        "time",
        "timestamp",
        "vector",
        "year",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "and",
        "or",
        "unless",
    ]
)
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_PROMTOOL_LINE = re.compile(r"^(?P<file>[^:]+\.yaml): (?:\d+:\d+: )?(?P<rest>.*)$")
_WHERE = re.compile(r'group "(?P<group>[^"]*)", rule (?P<rule>\d+)(?:, "[^"]*")?: (?P<msg>.*)$')


def engine() -> str:
    """What checks expressions here: `promtool` or the built-in syntax check."""
    return "promtool" if shutil.which("promtool") else "syntax check (promtool not on PATH)"


def problems(specs: Sequence[dict[str, Any]]) -> list[Problem]:
    """Problems in the `spec` of each PrometheusRule (pointers relative to the object)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        return [p for i, spec in enumerate(specs) for p in _fallback(i, spec)]
    keys = [(promtool, json.dumps(spec, sort_keys=True)) for spec in specs]
    with _RUNNING:
        unseen = {key: spec for key, spec in zip(keys, specs, strict=True) if key not in _CHECKED}
        found = _promtool(promtool, list(unseen.values()))
        for i, key in enumerate(unseen):
            _CHECKED[key] = [(at, message) for index, at, message in found if index == i]
    return [(i, at, message) for i, key in enumerate(keys) for at, message in _CHECKED[key]]


def prefetch(specs: Sequence[dict[str, Any]]) -> None:
    """Start checking `specs` with promtool in the background (a no-op without promtool):
    one promtool run for every rule of a validation, overlapping the other checks, and
    `problems` then finds the answers (or waits for them)."""
    if specs and shutil.which("promtool") is not None:
        threading.Thread(target=problems, args=(list(specs),), daemon=True).start()


_CHECKED: dict[tuple[str, str], list[tuple[str, str]]] = {}
"""promtool's verdict per (binary, spec): every cluster of an environment carries the same
rules, so a synth of four clusters runs promtool once for them, not four times."""
_RUNNING = threading.Lock()


def _promtool(binary: str, specs: Sequence[dict[str, Any]]) -> list[Problem]:
    if not specs:
        return []
    with tempfile.TemporaryDirectory(prefix="meshops-promtool-") as tmp:
        files = []
        for i, spec in enumerate(specs):
            file = Path(tmp) / f"{i}.yaml"
            groups = {"groups": spec.get("groups") or []}
            file.write_text(yaml.dump(groups, Dumper=yamlio.DUMPER), encoding="utf-8")
            files.append(str(file))
        run = subprocess.run(
            [binary, "check", "rules", "--lint=none", *files],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )
    out: list[Problem] = []
    for line in (run.stdout + run.stderr).splitlines():
        match = _PROMTOOL_LINE.match(line.strip())
        if match:
            index = int(Path(match["file"]).stem)
            at, message = _locate(specs[index], match["rest"])
            out.append((index, at, message))
    if run.returncode != 0 and not out:
        out.append((0, "/spec", f"promtool failed: {(run.stderr or run.stdout).strip()}"))
    return out


def _locate(spec: dict[str, Any], text: str) -> tuple[str, str]:
    """The pointer promtool's `group "g", rule 2, "Name": ...` refers to."""
    where = _WHERE.match(text)
    if where is None:
        return "/spec/groups", text
    names = [g.get("name") if isinstance(g, dict) else None for g in spec.get("groups") or []]
    group = names.index(where["group"]) if where["group"] in names else 0
    at = pointer("spec", "groups", group, "rules", int(where["rule"]) - 1)
    message = where["msg"]
    annotation = re.match(r'(annotation|label) "([^"]+)"', message)
    if annotation:
        return f"{at}/{annotation[1]}s/{annotation[2]}", message
    if "expression" in message:
        return f"{at}/expr", message
    return at, message


def _fallback(index: int, spec: dict[str, Any]) -> Iterator[Problem]:
    for i, group in enumerate(spec.get("groups") or []):
        for j, rule in enumerate((group or {}).get("rules") or []):
            if not isinstance(rule, dict):
                continue
            at = pointer("spec", "groups", i, "rules", j)
            for message in _expression(str(rule.get("expr", ""))):
                yield index, f"{at}/expr", f"{message} (syntax check; promtool not on PATH)"
            for field in ("annotations", "labels"):
                for key, value in (rule.get(field) or {}).items():
                    if str(value).count("{{") != str(value).count("}}"):
                        yield index, f"{at}/{field}/{key}", "unbalanced {{ }} in template"


def _expression(expr: str) -> Iterator[str]:
    if not expr.strip():
        yield "empty expression"
        return
    code = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', " ", expr)
    for quote in "\"'`":
        if quote in code:
            yield f"unclosed {quote} quote"
            return
    stack: list[str] = []
    for char in code:
        if char in "([{":
            stack.append(char)
        elif char in _PAIRS and (not stack or stack.pop() != _PAIRS[char]):
            yield f"unbalanced {char!r}"
            return
    if stack:
        yield f"unclosed {stack[-1]!r}"
    for name in _CALL.findall(code):
        if name not in FUNCTIONS:
            yield f"unknown function {name!r}"
