"""A drift report read back from its JSON (`meshops drift --format json`), checked before
anything is planned from it: one bad field is one line naming it, never a half-made plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from charts_py import provenance
from charts_py.drift.model import Change, Difference, GitSource, Report, Result, Severity, Status
from charts_py.errors import ConfigError
from charts_py.objectref import ObjectRef

READABLE = (1, 2, 3)
"""Report schema versions whose differences this reader understands (before 3, without
`source`, propose looks sources up in the provenance side file at the report's commit)."""


def read(path: Path) -> Report:
    """The report in `path`, or a ConfigError naming the file and the field at fault."""
    shown = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot read file: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, "", f"not a JSON drift report: {exc}") from None
    try:
        return _report(data)
    except _Bad as bad:
        raise ConfigError(shown, bad.field, bad.reason) from None


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _report(data: Any) -> Report:
    if not isinstance(data, dict):
        raise _Bad("", "not a JSON drift report (expected an object)")
    version = data.get("schemaVersion")
    if version not in READABLE:
        raise _Bad("schemaVersion", f"{version!r} is not one of {list(READABLE)}")
    git = _get(data, "git", dict, "git")
    source = GitSource(
        _get(git, "ref", str, "git.ref"),
        _get(git, "commit", str, "git.commit"),
        _get(git, "path", str, "git.path"),
    )
    resources = _get(data, "resources", list, "resources")
    results = tuple(_result(r, f"resources[{i}]") for i, r in enumerate(resources))
    return Report(
        env=_get(data, "env", str, "env"),
        cluster=_get(data, "cluster", str, "cluster"),
        git=source,
        started_at=str(data.get("startedAt", "")),
        finished_at=str(data.get("finishedAt", "")),
        results=results,
        errors=tuple(str(e) for e in data.get("errors") or ()),
        notes=tuple(str(n) for n in data.get("notes") or ()),
    )


def _result(data: Any, at: str) -> Result:
    if not isinstance(data, dict):
        raise _Bad(at, "expected an object")
    ref = ObjectRef(
        _get(data, "apiVersion", str, f"{at}.apiVersion"),
        _get(data, "kind", str, f"{at}.kind"),
        _get(data, "namespace", str, f"{at}.namespace"),
        _get(data, "name", str, f"{at}.name"),
    )
    status = _enum(Status, data.get("status"), f"{at}.status")
    diffs = _get(data, "differences", list, f"{at}.differences")
    differences = tuple(_difference(d, f"{at}.differences[{j}]") for j, d in enumerate(diffs))
    return Result(ref, status, differences, data.get("error"))


def _difference(data: Any, at: str) -> Difference:
    if not isinstance(data, dict):
        raise _Bad(at, "expected an object")
    return Difference(
        path=_get(data, "path", str, f"{at}.path"),
        change=_enum(Change, data.get("change"), f"{at}.change"),
        desired=data.get("desired"),
        live=data.get("live"),
        manager=data.get("manager"),
        operation=data.get("operation"),
        time=data.get("time"),
        severity=_enum(Severity, data.get("severity", "low"), f"{at}.severity"),
        source=_source(data.get("source"), f"{at}.source"),
    )


def _source(data: Any, at: str) -> provenance.Origin | None:
    if data is None:
        return None
    try:
        return provenance.origin_from_json(data)
    except (KeyError, TypeError, AttributeError):
        raise _Bad(at, "not a source (file/field, profile/key/override or generated)") from None


def _get(data: dict[str, Any], key: str, kind: type, at: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise _Bad(at, f"missing or not a {kind.__name__}")
    return value


def _enum(kind: Any, value: Any, at: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise _Bad(at, f"{value!r} is not one of {[str(v) for v in kind]}") from None
