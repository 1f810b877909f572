"""Validation of the rendered objects, in a worker forked before the Apps are built.

Validation is pure Python and as long as rendering and writing together on a large estate;
on two cores they overlap. The worker is forked once the environments are loaded; it imports
the rules and loads the schemas of every kind the charts emit while this process builds the
Apps (node does most of that, in jsii calls), then receives the objects through a pipe, a
cluster at a time as they are rendered, and checks each against its schema at once (the bulk
of the work), so that only the rules are left when the last one is in. It never calls into
jsii, and this process never imports the rules unless there are errors.
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
from typing import Protocol

from charts_py import kinds
from charts_py.config.environment import Environment
from charts_py.render.manifest import Manifest
from charts_py.speed import fork
from charts_py.validate.findings import Finding, Report, Severity

# charts_py.validate.engine, targets and schemas (the rules, jsonschema) are imported where
# they are used, in the worker: see the module docstring.

Verdict = Callable[[], list[Finding]]
"""Waits for validation; returns its warnings or raises ValidationFailed on errors."""


class Validation(Protocol):
    """Objects handed to validation as they are rendered, then its verdict once all are in."""

    def add(self, placed: Sequence[Manifest]) -> None:
        """More rendered objects (a cluster's, the bootstrap's), in the order of dist/."""

    def verdict(self) -> Verdict:
        """No more objects come: what this returns waits for validation of them all."""


class _InProcess:
    """Without a worker: the objects are kept, and validated when the verdict is asked for."""

    def __init__(self, envs: dict[str, Environment], dist_dir: Path) -> None:
        self._envs, self._dist_dir = envs, dist_dir
        self._placed: list[Manifest] = []

    def add(self, placed: Sequence[Manifest]) -> None:
        self._placed += placed

    def verdict(self) -> Verdict:
        return functools.partial(_judged, _report(self._placed, self._envs, self._dist_dir))


class _Forked:
    """Each batch goes down the worker's pipe as it is added: the worker checks its objects
    against their schemas (the bulk of validation) while this process renders the next
    one, and runs every rule once the last is in."""

    def __init__(self, worker: fork.Worker) -> None:
        self._worker = worker

    def add(self, placed: Sequence[Manifest]) -> None:
        # A broken pipe: the worker failed before reading them; its outcome says why.
        with suppress(BrokenPipeError):
            self._worker.conn.send(list(placed))

    def verdict(self) -> Verdict:
        with suppress(BrokenPipeError):
            self._worker.conn.send(_ALL_IN)
        return functools.cache(lambda: _outcome(self._worker))


_ALL_IN = None
"""What tells the worker that no more objects come."""


def validated(
    placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path
) -> list[Finding]:
    """Check the rendered objects under each environment's profile: errors raise
    ValidationFailed (listing all of them); warnings are returned."""
    return _judged(_report(placed, envs, dist_dir))


@contextmanager
def in_background(envs: dict[str, Environment], dist_dir: Path) -> Iterator[Validation]:
    """Fork the worker now; hand what this yields the rendered objects, then ask it for the
    verdict. On leaving, a worker still running is stopped."""
    if not fork.usable():  # validated here, its errors raised when the verdict is asked for
        yield _InProcess(envs, dist_dir)
        return
    worker = fork.Worker(_work, envs, dist_dir)
    try:
        yield _Forked(worker)
    finally:
        worker.stop()  # a worker still waiting for objects reads EOF and exits


def load_schemas() -> None:
    """The validator of every kind the charts emit (CRDs and Kubernetes built-ins), and the
    rules."""
    from charts_py.validate import schemas, targets  # noqa: F401 (imported to be ready)

    for kind in (*kinds.MESH_KINDS, kinds.APP_PROJECT, kinds.APPLICATION_SET):
        schemas.prepare(kind.api_version, kind.kind)


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
    """The worker: the schemas, then each batch of objects against its schemas as it comes
    (validate/schemas.py keeps each object's violations), then, all in, every rule over
    them; only the findings cross back, not the objects. Nothing, if the synth stopped
    before its objects were rendered."""
    try:
        load_schemas()
        placed: list[Manifest] = []
        while (batch := conn.recv()) is not _ALL_IN:
            placed += batch
            _checked_ahead(batch)
        report = _report(placed, envs, dist_dir)
        conn.send(Report(findings=report.findings))
    except EOFError:
        return
    except Exception as exc:  # any failure is the parent's to raise
        try:
            conn.send(exc)
        except Exception:  # an exception that does not pickle: its message does
            conn.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _checked_ahead(batch: Sequence[Manifest]) -> None:
    """Each object against its schema now, while later objects are rendered: the rule
    `schema` then finds the answers (validate/schemas.py keeps them). promtool is not
    started per batch: it runs once for every alerting rule when all are in (five runs of
    it, one per cluster of the sample, cost more than the wait they saved)."""
    from charts_py.validate import schemas

    for manifest in batch:
        schemas.check_ahead(manifest.obj)


def _report(placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path) -> Report:
    from charts_py.validate import targets

    items = ((m.path, m.obj) for m in placed)
    return targets.run(targets.for_rendered(items, envs, f"{dist_dir}/"))


def _warnings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.WARNING]
