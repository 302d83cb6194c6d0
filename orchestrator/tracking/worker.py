"""A background thread that runs tracking calls in order, so that a slow or dead tracking server never
holds up the campaign: the campaign only enqueues; the first failure warns once and drops the rest."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TrackingWorker"]

Job = Callable[[], Any]
_STOP = object()


class TrackingWorker:
    """Runs jobs one after another on a daemon thread.

    Args:
        on_failure: called once, on the worker thread, with the first exception a job raised; every
            job after it is dropped (a server that failed once is not retried in this process: a run
            of hundreds of rounds must not pay a timeout per round).
        name: the thread's name.
    """

    def __init__(self, on_failure: Callable[[BaseException], None], name: str = "promptfusion-tracking"):
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._on_failure = on_failure
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job`` (dropped at once when tracking has failed)."""
        if self.failed is None:
            self._jobs.put(job)

    def close(self, timeout: float) -> bool:
        """Let the queued jobs finish, waiting at most ``timeout`` seconds.

        Returns:
            True when every job ran (or was dropped after a failure), False when time ran out (the
            daemon thread is left to finish or die with the process).
        """
        self._jobs.put(_STOP)
        deadline = time.monotonic() + timeout
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            if self.failed is not None:
                continue
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - any tracking failure is reported once, never raised
                self.failed = exc
                self._on_failure(exc)
