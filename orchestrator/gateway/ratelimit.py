"""Client-side rate limiting: a concurrency cap plus requests/min and tokens/min token buckets.

Hosted APIs enforce requests and tokens per minute; staying under both avoids the 429 storm that
retries alone turn into (DSPy has retries but no limiter: stanfordnlp/dspy #2048, #1795). Tokens are
estimated before a call and corrected with the real usage after it. A 429's ``Retry-After`` pauses
every caller of the limiter, not just the one that was told.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Clock", "RateLimiter", "Sleep", "TokenBucket"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """A token bucket refilled continuously at ``per_minute / 60`` per second.

    Waiters are served first come, first served. The bucket holds ``burst_seconds`` worth of
    refill, so over any window of ``T`` seconds at most ``rate * (T + burst_seconds)`` is granted
    (a 600/min limit admits at most 610 requests in a minute). A request larger than the bucket
    waits for a full bucket and overdraws it; the debt delays the next callers, so the long-run
    rate still holds.

    Args:
        per_minute: refill rate (units per minute), > 0.
        burst_seconds: capacity expressed in seconds of refill (at least one unit).
        clock: monotonic seconds (injected for tests).
        sleep: async sleep (injected for tests).
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        if per_minute <= 0:
            raise ValueError(f"per_minute must be > 0, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self._clock = clock
        self._sleep = sleep
        self._level = self.capacity
        self._updated = clock()
        self._lock = asyncio.Lock()

    @property
    def level(self) -> float:
        """Units available now (negative while in debt)."""
        self._refill()
        return self._level

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` units can be taken, then take them."""
        async with self._lock:
            needed = min(amount, self.capacity)
            self._refill()
            if self._level < needed:
                await self._sleep((needed - self._level) / self.rate)
                self._refill()
                # The sleep was sized to cover the deficit; a coarse clock or float rounding may leave
                # a sliver short, and looping on a sliver could spin (clock increments lost to rounding).
                self._level = max(self._level, needed)
            self._level -= amount

    def credit(self, amount: float) -> None:
        """Give back ``amount`` units (negative: take more), e.g. after correcting an estimate."""
        self._refill()
        self._level = min(self.capacity, self._level + amount)


class RateLimiter:
    """Concurrency cap + optional requests/min and tokens/min buckets for one model.

    Use ``async with limiter.slot(estimated_tokens) as slot: ...; slot.settle(actual_tokens)``.
    One limiter can be shared by several gateways that call the same model and account.

    Args:
        concurrency: most calls inside a slot at once.
        rpm: requests per minute, None for no limit.
        tpm: tokens per minute (prompt + completion), None for no limit.
        clock, sleep: injected time source and sleep (tests use a fake clock).
    """

    def __init__(
        self,
        *,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ):
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self.requests = TokenBucket(rpm, clock=clock, sleep=sleep) if rpm else None
        self.tokens = TokenBucket(tpm, clock=clock, sleep=sleep) if tpm else None
        self._clock = clock
        self._sleep = sleep
        self._not_before = 0.0

    def hold_off(self, seconds: float) -> None:
        """Pause new requests for ``seconds`` (a server's ``Retry-After``)."""
        self._not_before = max(self._not_before, self._clock() + seconds)

    def slot(self, estimated_tokens: int) -> _Slot:
        """An async context manager holding one concurrency slot and the rate budget of one request."""
        return _Slot(self, estimated_tokens)

    async def _enter(self, estimated_tokens: int) -> None:
        await self._semaphore.acquire()
        try:
            delay = self._not_before - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self.requests is not None:
                await self.requests.acquire(1.0)
            if self.tokens is not None:
                await self.tokens.acquire(estimated_tokens)
        except BaseException:
            self._semaphore.release()
            raise

    def _exit(self) -> None:
        self._semaphore.release()


class _Slot:
    """One request's hold on a ``RateLimiter`` (see ``RateLimiter.slot``)."""

    __slots__ = ("_limiter", "_estimated", "_settled")

    def __init__(self, limiter: RateLimiter, estimated_tokens: int):
        self._limiter = limiter
        self._estimated = estimated_tokens
        self._settled = False

    async def __aenter__(self) -> _Slot:
        await self._limiter._enter(self._estimated)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._limiter._exit()

    def settle(self, actual_tokens: int) -> None:
        """Correct the tokens/min bucket with the real usage of the call (once)."""
        if self._settled or self._limiter.tokens is None:
            return
        self._settled = True
        self._limiter.tokens.credit(self._estimated - actual_tokens)
