"""Sending one call: each attempt in a limiter slot under a safety timeout, failures retried by policy.

The gateway decides whether a call is sent at all (cache, in-flight twin, budget); ``Attempts`` does
the sending. A 429's ``Retry-After`` pauses the whole limiter; a backend that hangs past the safety
timeout raises ``Timeout``, which the retry policy treats as transient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying

from orchestrator.backends.base import Completion, LabelScores, LLMError, RateLimited, Timeout
from orchestrator.gateway.ratelimit import RateLimiter

__all__ = ["Attempts", "Tries"]

T = TypeVar("T", Completion, LabelScores)

# asyncio.timeout (3.11+) cancels in place; wait_for on 3.10 costs an extra task per call.
_HAS_TIMEOUT_CM = hasattr(asyncio, "timeout")


class Tries:
    """HTTP attempts made for one call (shared between the gateway and ``Attempts``).

    ``sent`` turns true once a request has been handed to the backend: from then on the provider
    may bill it, whatever happens to the caller. ``keep_late``, when set, receives the backend call
    of an attempt whose caller was cancelled (a stop) while the answer was on its way: the gateway
    lets it arrive and caches it, so a resumed run does not pay for it twice.
    """

    __slots__ = ("count", "keep_late", "sent")

    def __init__(self, keep_late: Callable[[asyncio.Future], None] | None = None) -> None:
        self.count = 1
        self.sent = False
        self.keep_late = keep_late


class Attempts:
    """The attempts of one model's calls.

    Args:
        model: named in the timeout error.
        limiter: concurrency slot and rpm/tpm budget per attempt.
        retrying: the retry controller (``orchestrator.gateway.retry.make_retrying``); copied per call.
        safety_timeout: seconds after which an attempt is abandoned as ``Timeout``.
    """

    def __init__(self, model: str, limiter: RateLimiter, retrying: AsyncRetrying, safety_timeout: float):
        self.model = model
        self.limiter = limiter
        self.safety_timeout = safety_timeout
        self._retrying = retrying

    async def send(self, call: Callable[[], Awaitable[T]], estimate: int, tries: Tries) -> T:
        """The call's answer after as many attempts as the policy allows (counted in ``tries``).

        Raises:
            LLMError: the last failure once the policy gives up (or at once when not retryable).
        """
        try:
            return await self._attempt(call, estimate, tries)
        except LLMError as first_failure:
            return await self._retry(first_failure, call, estimate, tries)

    async def _retry(
        self, first_failure: LLMError, call: Callable[[], Awaitable[T]], estimate: int, tries: Tries
    ) -> T:
        """Continue after a failed first attempt, under tenacity.

        The first attempt runs outside tenacity (most calls succeed, and a tenacity controller costs
        ~25 us per call); tenacity is handed the first failure as its attempt 1, so stop, wait,
        Retry-After and logging see exactly the sequence they would have seen.
        """
        pending: LLMError | None = first_failure
        async for attempt in self._retrying.copy():
            with attempt:
                if pending is not None:
                    failure, pending = pending, None
                    raise failure
                tries.count += 1
                value = await self._attempt(call, estimate, tries)
        return value

    async def _attempt(self, call: Callable[[], Awaitable[T]], estimate: int, tries: Tries) -> T:
        async with self.limiter.slot(estimate) as slot:
            tries.sent = True
            sending = call() if tries.keep_late is None else asyncio.ensure_future(call())
            try:
                awaited = sending if tries.keep_late is None else asyncio.shield(sending)
                if _HAS_TIMEOUT_CM:
                    async with asyncio.timeout(self.safety_timeout):
                        value = await awaited
                else:  # pragma: no cover - Python 3.10
                    value = await asyncio.wait_for(awaited, self.safety_timeout)
            except asyncio.CancelledError:
                if tries.keep_late is not None and not sending.done():
                    tries.keep_late(sending)  # the caller stopped; the answer is still on its way
                raise
            except (TimeoutError, asyncio.TimeoutError):  # the same class from 3.11 on
                if tries.keep_late is not None:
                    sending.cancel()
                raise Timeout(f"{self.model}: no answer within {self.safety_timeout:.1f} s") from None
            except RateLimited as error:
                if error.retry_after:
                    self.limiter.hold_off(error.retry_after)
                raise
            slot.settle(value.prompt_tokens + value.completion_tokens)
        return value
