"""Trying again: the one retry loop, with a policy per boundary that retries.

- kubeapi, a request: a 429 (its Retry-After honoured up to a cap), a 5xx, a timeout (a
  server that cannot be reached at all is not asked again); `kubeapi.RetryPolicy`, 5
  attempts, 0.25 s doubling up to 4 s.
- kubeapi, a LIST: an expired continuation (410) restarts it from its first page; as many
  attempts, no pause.
- notify, and the Pushgateway through it: connection failures, timeouts, 5xx, never a 4xx
  or a redirect; 3 attempts, 0.5 s then 1 s.
- gitrepo, a push that lost the race, once rebased onto the winner: 5 attempts, 0.1 s more
  each time, jittered.
- gitrepo, moving a ref that moved meanwhile (compare-and-swap): 10 attempts, 0.05 s more
  each time, jittered.

Each boundary says what may be tried again; anything else is raised at once, and the last
failure is raised when the attempts are spent (the boundary words it for the user).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Policy:
    """At most `attempts` tries, and the pause before each next one."""

    attempts: int
    pauses: tuple[float, ...] = ()
    """Seconds before the 2nd, 3rd, ... try (the last repeats; none: no pause)."""
    jitter: bool = False
    """Each pause scaled by a random factor in [0.1, 1): writers that collided spread out."""
    max_wait: float = 30.0
    """The longest a server's own answer (Retry-After) may make us wait."""

    def pause(self, failed: int, asked: float | None = None) -> float:
        """Seconds to wait after try `failed` (0-based) failed; `asked`: the server's wish."""
        if asked is not None:
            return min(max(asked, 0.0), self.max_wait)
        if not self.pauses:
            return 0.0
        pause = self.pauses[min(failed, len(self.pauses) - 1)]
        return pause * random.uniform(0.1, 1.0) if self.jitter else pause


def doubling(first: float, cap: float, attempts: int) -> tuple[float, ...]:
    """Pauses from `first`, doubling up to `cap`: for a server that may be overloaded."""
    return tuple(min(cap, first * 2**n) for n in range(max(attempts - 1, 0)))


def growing(step: float, attempts: int) -> tuple[float, ...]:
    """Pauses of one `step` more each time: for writers racing each other."""
    return tuple(step * (n + 1) for n in range(max(attempts - 1, 0)))


def call(
    once: Callable[[], T],
    policy: Policy,
    *,
    again: Callable[[Exception], bool],
    asked: Callable[[Exception], float | None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`once()`, tried again after a failure `again` accepts, until it returns or the
    policy's attempts are spent (then that failure is raised); `asked` reads how long the
    failure itself asks us to wait (a 429's Retry-After)."""
    attempts = max(policy.attempts, 1)
    for failed in range(attempts):
        try:
            return once()
        except Exception as exc:
            if failed + 1 == attempts or not again(exc):
                raise
            pause = policy.pause(failed, asked(exc))
            if pause > 0:
                sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover: the loop returns or raises
