"""The one retry loop (charts_py/retry.py): what is tried again, how often, and how long it
waits. Each boundary's own behaviour is tested where it lives: kubeapi against a faulty proxy
in front of the real API server (tests/integration/test_drift_faults.py), notify and the
Pushgateway against local HTTP servers, gitrepo with racing writers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from charts_py import kubeapi, retry


class Flaky(Exception):
    """A failure the caller may retry."""


def failing(times: int, exc: Exception) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def once() -> str:
        calls.append(len(calls))
        if len(calls) <= times:
            raise exc
        return "done"

    return calls, once


def test_a_failure_it_may_retry_is_tried_again_after_its_pause() -> None:
    calls, once = failing(2, Flaky())
    pauses: list[float] = []
    policy = retry.Policy(attempts=3, pauses=(0.5, 1.0))
    result = retry.call(once, policy, again=lambda e: isinstance(e, Flaky), sleep=pauses.append)
    assert (result, len(calls), pauses) == ("done", 3, [0.5, 1.0])


def test_the_last_failure_is_raised_once_the_attempts_are_spent() -> None:
    calls, once = failing(9, Flaky())
    with pytest.raises(Flaky):
        retry.call(once, retry.Policy(attempts=4), again=lambda e: True, sleep=pytest.fail)
    assert len(calls) == 4  # no pause configured: none taken


def test_any_other_failure_is_raised_at_once() -> None:
    calls, once = failing(1, KeyError("x"))
    with pytest.raises(KeyError):
        retry.call(
            once,
            retry.Policy(attempts=5, pauses=(1.0,)),
            again=lambda e: isinstance(e, Flaky),
            sleep=pytest.fail,
        )
    assert len(calls) == 1


def test_a_server_asking_to_wait_is_heard_up_to_the_cap() -> None:
    policy = retry.Policy(attempts=3, pauses=(0.25,), max_wait=30.0)
    assert policy.pause(0, asked=2.0) == 2.0
    assert policy.pause(0, asked=600.0) == 30.0
    assert policy.pause(0, asked=-1.0) == 0.0
    assert policy.pause(5) == 0.25  # the last pause repeats


def test_jitter_spreads_each_pause_below_it() -> None:
    policy = retry.Policy(attempts=5, pauses=retry.growing(0.1, 5), jitter=True)
    for failed, top in enumerate((0.1, 0.2, 0.3, 0.4)):
        assert all(top * 0.1 <= policy.pause(failed) <= top for _ in range(50))


def test_the_api_servers_policy_doubles_up_to_its_cap() -> None:
    policy = kubeapi.RetryPolicy(attempts=6, base=0.25, cap=1.5, max_retry_after=10.0).backoff()
    assert policy.attempts == 6 and policy.max_wait == 10.0
    assert policy.pauses == (0.25, 0.5, 1.0, 1.5, 1.5)
