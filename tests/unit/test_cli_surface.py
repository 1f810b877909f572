"""The command surface is typed: shared options declared once, format names in one module,
options dataclasses by keyword, and the nightly job's command line parsed by the CLI itself."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import typing
from pathlib import Path

import pytest
import yaml

from charts_py import cli, format_names
from charts_py.config import model
from charts_py.constructs import drift_job
from charts_py.cost import formats as cost_formats
from charts_py.drift import run
from charts_py.plan import report as plan_report
from charts_py.propose import proposal
from charts_py.recovery import backup, restore
from charts_py.review import formats as review_formats
from charts_py.review import run as review_run
from charts_py.validate import report
from charts_py.validate.findings import Report
from tests.conftest import REPO

SHARED = ("--env", "--cluster", "--repo", "--kubeconfig", "--context", "--dist", "--environments")


def commands() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def nightly_argv(cronjob: dict[str, typing.Any]) -> list[str]:
    """The `meshops drift ...` words of the CronJob's shell script, as sh would split them."""
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    script = container["command"][-1]
    command = script.split(" && cd /work/repo && ", 1)[1].split("; code=$?", 1)[0]
    return shlex.split(command)


CRONJOBS = sorted(REPO.glob("dist/*/*/drift-job/CronJob.batch.meshops-system.meshops-drift.yaml"))


@pytest.mark.parametrize("path", CRONJOBS, ids=lambda p: p.parent.parent.name)
def test_the_nightly_jobs_command_line_parses_with_the_clis_parser(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(drift_job.NOTIFY_ENV, "https://hooks.example.com/services/T0/B0/x")
    cronjob = yaml.safe_load(path.read_text())
    argv = nightly_argv(cronjob)
    assert argv[0] == "meshops"
    args = cli.parser().parse_args(argv[1:])
    env, cluster = path.parts[-4], path.parts[-3]
    assert (args.command, args.env, args.cluster) == ("drift", env, cluster)
    assert (args.snapshot, args.push, args.format) == (True, "origin", "markdown")
    assert args.output == Path(drift_job.REPORT)
    assert args.handler.__name__ == "_drift"


def test_the_cronjobs_cover_delivery_and_proposals() -> None:
    """The sample environments exercise every optional flag the job passes."""
    words = {w for path in CRONJOBS for w in nightly_argv(yaml.safe_load(path.read_text()))}
    assert {"--pushgateway", "--notify-from-env", "--notify-format", "--propose-branch"} <= words
    clusters = {p for p in REPO.glob("dist/*/*") if p.is_dir() and p.parent.name != "_bootstrap"}
    assert len(CRONJOBS) == len(clusters) == 5  # one job per cluster of the samples


def test_a_renamed_flag_breaks_the_parse_not_the_night(monkeypatch: pytest.MonkeyPatch) -> None:
    path = next(p for p in CRONJOBS if "prod" in p.parts)
    monkeypatch.setenv(drift_job.NOTIFY_ENV, "https://hooks.example.com/services/T0/B0/x")
    argv = nightly_argv(yaml.safe_load(path.read_text()))
    renamed = ["--snapshot-to" if w == "--snapshot" else w for w in argv]
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(renamed[1:])
    assert exited.value.code == 2


def test_shared_options_mean_the_same_in_every_command() -> None:
    """Declared once (cli/shared.py): same metavar, type, default and help wherever used.
    `cluster --kubeconfig` is where `up` writes one, not how to reach a cluster."""
    seen: dict[str, set[tuple[object, ...]]] = {}
    for name, parser in commands().items():
        for flag in SHARED:
            action = option(parser, flag)
            if action is None or (name, flag) == ("cluster", "--kubeconfig"):
                continue
            shape = (action.metavar, action.type, action.default if flag != "--env" else None)
            seen.setdefault(flag, set()).add(shape)
    assert {flag: len(shapes) for flag, shapes in seen.items()} == dict.fromkeys(SHARED, 1)
    users = {n for n, p in commands().items() if option(p, "--context")}
    assert users == {"apply", "drift", "backup", "restore", "propose", "import"}


def test_format_choices_are_the_named_formats() -> None:
    parsers = commands()
    choices = {
        ("drift", "--format"): format_names.DRIFT,
        ("drift", "--notify-format"): format_names.NOTIFY,
        ("validate", "--format"): format_names.VALIDATE,
        ("audit", "--format"): format_names.AUDIT,
        ("cost", "--format"): format_names.COST,
        ("propose", "--format"): format_names.PROPOSE,
        ("review", "--format"): format_names.REVIEW,
        ("report", "--format"): format_names.FLEET,
        ("plan-ambient", "--format"): format_names.PLAN_AMBIENT,
    }
    for (command, flag), names in choices.items():
        action = option(parsers[command], flag)
        assert action is not None
        assert tuple(action.choices or ()) == names, (command, flag)
    assert set(cost_formats.RENDERERS) == set(format_names.COST)
    notify_format = model.DriftNotify.model_fields["format"].annotation
    assert typing.get_args(notify_format) == format_names.NOTIFY
    for name in format_names.VALIDATE:
        assert report.render(Report(), name)
    assert tuple(review_formats.RENDERERS) == format_names.REVIEW
    assert tuple(plan_report.RENDERERS) == format_names.PLAN_AMBIENT


@pytest.mark.parametrize(
    "options", [run.Options, backup.Options, restore.Options, proposal.Options, review_run.Options]
)
def test_options_are_frozen_and_keyword_only(options: type) -> None:
    params = options.__dataclass_params__  # type: ignore[attr-defined]
    assert params.frozen
    assert all(f.kw_only for f in dataclasses.fields(options))
    with pytest.raises(TypeError):
        options("prod", "prod-east")
