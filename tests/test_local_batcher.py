"""The micro-batcher: one worker thread, concurrent requests batched, failures isolated, loop kept free."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from orchestrator.local_model.batcher import MicroBatcher


class Recorder:
    """A handler that records its batches and the thread it ran on; ``delay`` simulates model work."""

    def __init__(self, delay: float = 0.0, fail_on: object = None):
        self.delay = delay
        self.fail_on = fail_on
        self.batches: list[list] = []
        self.threads: set[str] = set()

    def __call__(self, payloads):
        self.batches.append(list(payloads))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.fail_on in payloads:
            raise ValueError(f"cannot handle {self.fail_on!r}")
        return [p * 10 for p in payloads]


async def test_concurrent_jobs_are_batched_and_answered_in_order():
    handler = Recorder(delay=0.05)
    batcher = MicroBatcher({"work": handler}, window_s=0.01, max_batch=64)
    results = await asyncio.gather(*(batcher.submit("work", i) for i in range(40)))
    batcher.close()
    assert results == [i * 10 for i in range(40)]
    assert len(handler.batches) < 40 / 4, f"expected few large batches, got {list(map(len, handler.batches))}"
    assert sorted(p for batch in handler.batches for p in batch) == list(range(40))
    assert handler.threads == {"promptfusion-local-model"}


async def test_max_batch_caps_a_handler_call():
    handler = Recorder()
    batcher = MicroBatcher({"work": handler}, window_s=0.01, max_batch=4)
    await asyncio.gather(*(batcher.submit("work", i) for i in range(10)))
    batcher.close()
    assert max(map(len, handler.batches)) <= 4


async def test_kinds_are_batched_separately():
    tens = Recorder()
    batcher = MicroBatcher({"ten": tens, "square": lambda payloads: [p * p for p in payloads]})
    results = await asyncio.gather(*(batcher.submit("ten" if i % 2 else "square", i) for i in range(8)))
    batcher.close()
    assert results == [0, 10, 4, 30, 16, 50, 36, 70]
    assert sorted(p for batch in tens.batches for p in batch) == [1, 3, 5, 7]


async def test_a_failing_job_fails_alone():
    handler = Recorder(fail_on=3)
    batcher = MicroBatcher({"work": handler}, window_s=0.01)
    results = await asyncio.gather(*(batcher.submit("work", i) for i in range(6)), return_exceptions=True)
    batcher.close()
    assert isinstance(results[3], ValueError) and "cannot handle 3" in str(results[3])
    assert [r for i, r in enumerate(results) if i != 3] == [0, 10, 20, 40, 50]


async def test_the_event_loop_keeps_running_while_the_model_works():
    batcher = MicroBatcher({"work": Recorder(delay=0.4)})
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.ensure_future(ticker())
    await batcher.submit("work", 1)
    ticking.cancel()
    batcher.close()
    assert ticks >= 10, "the loop was blocked while the handler ran"


async def test_run_timeout_counts_running_time_not_queueing():
    batcher = MicroBatcher({"slow": Recorder(delay=0.5), "fast": Recorder(delay=0.05)}, window_s=0.0)
    slow = asyncio.ensure_future(batcher.submit("slow", 1))
    await asyncio.sleep(0.05)  # the slow job is running now
    # Queued behind 0.45 s of other work, but it runs for only 0.05 s: within a 0.3 s budget.
    assert await batcher.submit("fast", 2, run_timeout=0.3) == 20
    with pytest.raises(TimeoutError):
        await batcher.submit("slow", 3, run_timeout=0.1)
    await slow
    batcher.close()


async def test_cancelled_jobs_are_skipped():
    handler = Recorder(delay=0.2)
    batcher = MicroBatcher({"work": handler}, window_s=0.0)
    first = asyncio.ensure_future(batcher.submit("work", 1))
    await asyncio.sleep(0.05)
    doomed = asyncio.ensure_future(batcher.submit("work", 2))
    await asyncio.sleep(0.01)
    doomed.cancel()
    assert await first == 10
    await batcher.submit("work", 3)
    batcher.close()
    assert [p for batch in handler.batches for p in batch] == [1, 3]


async def test_closed_batcher_and_unknown_kinds_are_errors():
    batcher = MicroBatcher({"work": Recorder()})
    with pytest.raises(KeyError, match="unknown job kind"):
        await batcher.submit("other", 1)
    assert await batcher.submit("work", 1) == 10
    batcher.close()
    batcher.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await batcher.submit("work", 2)


def test_jobs_from_two_event_loops_are_answered_on_their_own_loop():
    batcher = MicroBatcher({"work": Recorder()})
    assert asyncio.run(batcher.submit("work", 1)) == 10
    assert asyncio.run(batcher.submit("work", 2)) == 20
    batcher.close()


def test_invalid_max_batch():
    with pytest.raises(ValueError):
        MicroBatcher({"work": Recorder()}, max_batch=0)
