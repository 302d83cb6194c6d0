"""Stoppers a run watches besides its call budget: a wall-clock limit and a stop file.

Either ends the run ``stopped`` (resumable) with the best prompt measured so far; the call budget
ends it through ``BudgetExceeded`` and Ctrl-C through cancellation, with the same answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = ["Stoppers", "run_until_stopped"]

T = TypeVar("T")


@dataclass
class Stoppers:
    """When to stop a run early.

    Attributes:
        max_seconds: wall-clock seconds from ``start()`` (None: no limit).
        stop_file: stop once this path exists (None: no stop file).
        clock: monotonic clock (injected by tests).
    """

    max_seconds: float | None = None
    stop_file: Path | None = None
    clock: Callable[[], float] = time.monotonic
    _started: float | None = field(default=None, init=False)

    @property
    def active(self) -> bool:
        return self.max_seconds is not None or self.stop_file is not None

    def start(self) -> None:
        self._started = self.clock()

    def reason(self) -> str | None:
        """Why the run must stop now, or None."""
        if self.max_seconds is not None and self._started is not None:
            elapsed = self.clock() - self._started
            if elapsed >= self.max_seconds:
                return f"time limit reached ({elapsed:.0f} s of budget.max_seconds={self.max_seconds:g})"
        if self.stop_file is not None and self.stop_file.exists():
            return f"stop file {self.stop_file} found"
        return None


async def run_until_stopped(
    job: Awaitable[T], stoppers: Stoppers, *, poll_s: float = 0.1
) -> tuple[T | None, str | None]:
    """Await ``job`` unless a stopper fires first; then cancel it and wait until it has unwound.

    Returns:
        ``(result, None)`` when the job finished, ``(None, reason)`` when a stopper ended it.
    """
    stoppers.start()
    task = asyncio.ensure_future(job)
    if not stoppers.active:
        return await task, None
    try:
        while not task.done():
            reason = stoppers.reason()
            if reason is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                if task.cancelled():
                    return None, reason
                return task.result(), None  # it finished (or failed) while being cancelled
            await asyncio.wait({task}, timeout=poll_s)
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    return task.result(), None
