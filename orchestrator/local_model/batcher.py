"""Run model work in one worker thread, batching requests that arrive together.

On a CPU with two cores, N coroutines each running their own forward pass only thrash the
caches; one batched forward pass over the same N examples is several times faster. So every
request becomes a job on a queue; one thread takes the first job, waits a few milliseconds for
more (and takes everything that queued up while the previous batch ran), groups the jobs by
kind and hands each group to its handler in one call. The event loop never blocks.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchHandler", "MicroBatcher"]

logger = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Any]], Sequence[Any]]
_STOP = object()


@dataclass
class _Job:
    kind: str
    payload: Any
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    started: asyncio.Event


class MicroBatcher:
    """A single worker thread that runs jobs in batches.

    Args:
        handlers: for each job kind, a function taking the payloads of a batch and returning one
            result per payload, in order. A handler that raises fails only the jobs whose payloads
            fail on their own: the batch is retried one job at a time to find them.
        window_s: how long to wait for more jobs after the first one arrives.
        max_batch: the most jobs handed to one handler call.
        thread_name: the worker thread's name (shows in debuggers and ``py-spy``).
    """

    def __init__(
        self,
        handlers: Mapping[str, BatchHandler],
        *,
        window_s: float = 0.005,
        max_batch: int = 64,
        thread_name: str = "promptfusion-local-model",
    ):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._handlers = dict(handlers)
        self._window_s = window_s
        self._max_batch = max_batch
        self._thread_name = thread_name
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        # What ran, for tests and benchmarks: the size of each handler call, and jobs run per kind.
        self.batch_sizes: list[int] = []
        self.jobs_run: Counter[str] = Counter()

    async def submit(self, kind: str, payload: Any, *, run_timeout: float | None = None) -> Any:
        """Queue one job and wait for its result.

        Args:
            kind: a key of ``handlers``.
            payload: what the handler receives for this job.
            run_timeout: seconds the job may take once its batch has started. Time spent queued
                behind other batches does not count: with many concurrent callers it grows with
                their number, not with anything wrong.

        Returns:
            The handler's result for this payload.

        Raises:
            KeyError: an unknown kind.
            RuntimeError: the batcher is closed.
            TimeoutError: the job ran longer than ``run_timeout`` (its result is discarded).
            Exception: whatever the handler raised for this payload.
        """
        if kind not in self._handlers:
            raise KeyError(f"unknown job kind {kind!r}; known: {sorted(self._handlers)}")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        job = _Job(kind, payload, future, loop, asyncio.Event())
        with self._lock:
            if self._closed:
                raise RuntimeError("the model worker is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._thread_name, daemon=True)
                self._thread.start()
            self._queue.put(job)
        if run_timeout is None:
            return await future
        started = asyncio.ensure_future(job.started.wait())
        try:
            await asyncio.wait({started, future}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            future.cancel()
            raise
        finally:
            started.cancel()
        try:
            return await asyncio.wait_for(future, run_timeout)
        except asyncio.TimeoutError as error:
            raise TimeoutError(f"{kind} job ran longer than {run_timeout} s") from error

    def close(self, timeout: float | None = None) -> None:
        """Stop the worker after the jobs already queued; blocks until it has stopped."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs = [first]
            deadline = time.monotonic() + self._window_s
            while len(jobs) < self._max_batch:
                remaining = deadline - time.monotonic()
                try:
                    job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                    break
                jobs.append(job)
            for kind in dict.fromkeys(job.kind for job in jobs):
                live = [job for job in jobs if job.kind == kind and not job.future.cancelled()]
                if live:
                    self._execute(kind, live)

    def _execute(self, kind: str, jobs: list[_Job]) -> None:
        for job in jobs:
            _mark_started(job)
        try:
            self.batch_sizes.append(len(jobs))
            self.jobs_run[kind] += len(jobs)
            results = self._handlers[kind]([job.payload for job in jobs])
            if len(results) != len(jobs):
                raise RuntimeError(f"handler {kind!r} returned {len(results)} results for {len(jobs)} jobs")
        except Exception as error:  # handed to the waiting coroutines, never swallowed
            if len(jobs) > 1:
                logger.debug("batch of %d %s jobs failed (%s); retrying one by one", len(jobs), kind, error)
                for job in jobs:
                    self._execute(kind, [job])
                return
            _deliver(jobs[0], error=error)
            return
        for job, result in zip(jobs, results, strict=True):
            _deliver(job, result=result)


def _mark_started(job: _Job) -> None:
    try:
        job.loop.call_soon_threadsafe(job.started.set)
    except RuntimeError:  # the caller's event loop is closed
        pass


def _deliver(job: _Job, *, result: Any = None, error: BaseException | None = None) -> None:
    def settle() -> None:
        if job.future.done():  # cancelled while the batch ran
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the caller's event loop is closed: nobody is waiting any more
        pass
