"""Validation of the rendered objects, in a worker forked before the Apps are built.

Validation is pure Python and as long as rendering and writing together on a large estate;
on two cores they overlap. The worker is forked once the environments are loaded; it imports
the rules and loads the schemas of every kind the charts emit while this process builds the
Apps (node does most of that, in jsii calls), then receives the objects through a pipe. It
never calls into jsii, and this process never imports the rules unless there are errors.
Where fork is missing (Windows), or with MESHOPS_PLAIN=1 (speed/), validation runs in this
process once the objects exist.
Either way nothing is swapped into dist/ until the verdict is in, and errors stop the synth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path

from charts_py import kinds
from charts_py.config.environment import Environment
from charts_py.render.manifest import Manifest
from charts_py.speed import fork
from charts_py.validate.findings import Finding, Report, Severity

# charts_py.validate.engine, targets and schemas (the rules, jsonschema) are imported where
# they are used, in the worker: see the module docstring.

Verdict = Callable[[], list[Finding]]
"""Waits for validation; returns its warnings or raises ValidationFailed on errors."""

Check = Callable[[Sequence[Manifest]], Verdict]
"""Hands the rendered objects to validation; returns their verdict."""


def validated(
    placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path
) -> list[Finding]:
    """Check the rendered objects under each environment's profile: errors raise
    ValidationFailed (listing all of them); warnings are returned."""
    return _judged(_report(placed, envs, dist_dir))


@contextmanager
def in_background(envs: dict[str, Environment], dist_dir: Path) -> Iterator[Check]:
    """Fork the worker now; call what this yields with the rendered objects (once), and the
    verdict it returns for the outcome. On leaving, a worker still running is stopped."""
    if not fork.usable():  # validated here, its errors raised when the verdict is asked for
        yield lambda placed: functools.partial(_judged, _report(placed, envs, dist_dir))
        return
    worker = fork.Worker(_work, envs, dist_dir)

    def check(placed: Sequence[Manifest]) -> Verdict:
        # A broken pipe: the worker failed before reading them; its outcome says why.
        with suppress(BrokenPipeError):
            worker.conn.send(list(placed))
        return functools.cache(lambda: _outcome(worker))

    try:
        yield check
    finally:
        worker.stop()  # a worker still waiting for objects reads EOF and exits


def load_schemas() -> None:
    """The validator of every kind the charts emit (CRDs and Kubernetes built-ins)."""
    from charts_py.validate import schemas

    for kind in (*kinds.MESH_KINDS, kinds.APP_PROJECT, kinds.APPLICATION_SET):
        schemas.validator(kind.api_version, kind.kind)


def _outcome(worker: fork.Worker) -> list[Finding]:
    try:
        outcome = worker.conn.recv()
    except EOFError:
        outcome = RuntimeError(f"validation worker died (exit code {worker.exit_code()})")
    if isinstance(outcome, BaseException):
        raise outcome
    return _judged(outcome)


def _judged(report: Report) -> list[Finding]:
    """A report's warnings, or ValidationFailed listing its errors."""
    if report.errors:
        raise _failed(report)
    return _warnings(report)


def _failed(report: Report) -> Exception:
    from charts_py.validate import engine

    return engine.ValidationFailed(report)


def _work(conn: Connection, envs: dict[str, Environment], dist_dir: Path) -> None:
    """The worker: the schemas, then the objects' report without its list of objects (only
    findings cross back). Nothing, if the synth stopped before its objects were rendered."""
    try:
        load_schemas()
        try:
            placed = conn.recv()
        except EOFError:
            return
        report = _report(placed, envs, dist_dir)
        conn.send(Report(findings=report.findings))
    except Exception as exc:  # any failure is the parent's to raise
        try:
            conn.send(exc)
        except Exception:  # an exception that does not pickle: its message does
            conn.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _report(placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path) -> Report:
    from charts_py.validate import targets

    items = ((m.path, m.obj) for m in placed)
    return targets.run(targets.for_rendered(items, envs, f"{dist_dir}/"))


def _warnings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.WARNING]
