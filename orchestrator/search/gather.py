"""Concurrent awaiting that never abandons calls already sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")

__all__ = ["gather_settled"]


async def gather_settled(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Await all concurrently; when some fail, wait for the others, then raise the first failure.

    ``asyncio.gather`` raises at the first failure and leaves the rest running unobserved; a run that
    stops on a budget would then drop answers it has paid for. Here every call already sent finishes
    (and lands in the response cache) before the error propagates.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]
