"""Validation of the rendered objects, in a forked worker while this process renders YAML
and stages dist/.

Validation is pure Python and as long as rendering and writing together on a large estate;
on two cores they overlap. Forking hands the worker the objects without copying them (and
without a second node process: the worker never calls into jsii). Where fork is missing
(Windows), validation runs in this process first. Either way nothing is swapped into dist/
until the verdict is in, and errors stop the synth.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from charts_py.config.environment import Environment
from charts_py.render.manifest import Manifest
from charts_py.validate import engine, targets
from charts_py.validate.findings import Finding, Report, Severity

Verdict = Callable[[], list[Finding]]
"""Waits for validation; returns its warnings or raises ValidationFailed on errors."""


def validated(
    placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path
) -> list[Finding]:
    """Check the rendered objects under each environment's profile: errors raise
    ValidationFailed (listing all of them); warnings are returned."""
    report = _report(placed, envs, dist_dir)
    if report.errors:
        raise engine.ValidationFailed(report)
    return _warnings(report)


def in_background(
    placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path
) -> Verdict:
    """Start `validated` in a forked worker; call the result for its outcome (once or more)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        warnings = validated(placed, envs, dist_dir)
        return lambda: warnings
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(send, placed, envs, dist_dir), daemon=True)
    worker.start()
    send.close()

    @functools.cache
    def verdict() -> list[Finding]:
        try:
            outcome = receive.recv()
        except EOFError:
            outcome = RuntimeError(f"validation worker died (exit code {worker.exitcode})")
        finally:
            worker.join()
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome.errors:
            raise engine.ValidationFailed(outcome)
        return _warnings(outcome)

    return verdict


def _work(
    send: Connection, placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path
) -> None:
    """The worker: the report without its list of objects (only findings cross back)."""
    try:
        report = _report(placed, envs, dist_dir)
        send.send(Report(findings=report.findings))
    except Exception as exc:  # any failure is the parent's to raise
        try:
            send.send(exc)
        except Exception:  # an exception that does not pickle: its message does
            send.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _report(placed: Sequence[Manifest], envs: dict[str, Environment], dist_dir: Path) -> Report:
    items = ((m.path, m.obj) for m in placed)
    return targets.run(targets.for_rendered(items, envs, f"{dist_dir}/"))


def _warnings(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.severity is Severity.WARNING]
