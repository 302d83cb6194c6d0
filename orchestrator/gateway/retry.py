"""Retries: bounded attempts, exponential backoff with jitter, and respect for ``Retry-After``.

Only ``Transient`` errors (5xx, dropped connections, malformed or empty answers, timeouts, 429) are
retried; ``Fatal`` (400/401/403/404), ``Unsupported`` and ``BudgetExceeded`` go straight to the caller.
After a 429 the wait is at least what the server asked for. Built on tenacity; the sleep function and
the random generator are injected so tests neither wait nor flake.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from orchestrator.backends.base import RateLimited, Transient
from orchestrator.config.models import MAX_RETRIES
from orchestrator.gateway.ratelimit import Sleep

__all__ = ["BackoffWait", "RetryPolicy", "make_retrying"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    Attributes:
        max_retries: retries after the first attempt (0: a single attempt); the gateway passes
            ``ModelConfig.max_retries``, whose default this shares.
        initial_backoff: seconds before the first retry (before jitter).
        max_backoff: cap on the exponential backoff (before jitter).
        jitter: the backoff is stretched by a random factor in ``[1, 1 + jitter]`` so that
            callers failing together do not retry together.
        max_retry_after: a 429 asking to wait longer than this is not retried (the caller hears
            ``RateLimited`` at once instead of a silent hour-long stall).
    """

    max_retries: int = MAX_RETRIES
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("need 0 <= initial_backoff <= max_backoff")
        if self.jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {self.jitter}")

    def should_retry(self, error: BaseException) -> bool:
        """Whether ``error`` is worth another attempt."""
        if not isinstance(error, Transient):
            return False
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after <= self.max_retry_after
        return True


class BackoffWait(wait_base):
    """Exponential backoff with jitter, never shorter than a 429's ``retry_after``."""

    def __init__(self, policy: RetryPolicy, rng: random.Random):
        self.policy = policy
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        policy = self.policy
        base = min(policy.max_backoff, policy.initial_backoff * 2 ** (retry_state.attempt_number - 1))
        wait = base * (1.0 + policy.jitter * self.rng.random())
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            # At least what the server asked, plus up to 10% so a crowd told "1" does not return as one.
            wait = max(wait, error.retry_after * (1.0 + 0.1 * self.rng.random()))
        return wait


def _log_retry(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    log.warning(
        "attempt %d failed (%s: %s); retrying in %.2f s",
        retry_state.attempt_number,
        type(error).__name__,
        error,
        wait,
    )


def make_retrying(policy: RetryPolicy, *, sleep: Sleep, rng: random.Random) -> AsyncRetrying:
    """A tenacity controller for one call (not shareable between concurrent calls: copy it).

    Args:
        policy: attempts, backoff and ``Retry-After`` handling.
        sleep: async sleep used between attempts.
        rng: source of jitter.

    Returns:
        An ``AsyncRetrying`` that re-raises the last error when attempts run out.
    """
    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_retries + 1),
        wait=BackoffWait(policy, rng),
        retry=retry_if_exception(policy.should_retry),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
