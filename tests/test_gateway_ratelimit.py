"""Token buckets and the limiter: exact arithmetic on a fake clock, and the real thing over HTTP."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.gateway import RateLimiter, TokenBucket
from tests.conftest import FakeClock, MakeGateway, case_named
from tests.fakeserver import FakeServer


async def test_bucket_grants_one_second_of_burst_then_the_rate(fake_clock: FakeClock):
    bucket = TokenBucket(600, clock=fake_clock, sleep=fake_clock.sleep)  # 10 per second
    start = fake_clock.now
    grant_times = []
    for _ in range(40):
        await bucket.acquire()
        grant_times.append(fake_clock.now - start)
    assert grant_times[:10] == [0.0] * 10
    assert grant_times[-1] == pytest.approx(3.0)  # 30 more at 10/s
    assert grant_times[10] == pytest.approx(0.1)


@settings(max_examples=60, deadline=None)
@given(
    per_minute=st.floats(min_value=6, max_value=60_000),
    amounts=st.lists(st.floats(min_value=0.1, max_value=50), min_size=1, max_size=60),
)
def test_bucket_never_grants_more_than_burst_plus_rate_times_elapsed(per_minute, amounts):
    async def run() -> None:
        clock = FakeClock()
        bucket = TokenBucket(per_minute, clock=clock, sleep=clock.sleep)
        start, granted = clock.now, 0.0
        for amount in amounts:
            await bucket.acquire(amount)
            granted += amount
            allowed = bucket.capacity + bucket.rate * (clock.now - start)
            # An oversize request may overdraw once, by at most its own excess over the capacity.
            assert granted <= allowed + max(0.0, amount - bucket.capacity) + 1e-6

    asyncio.run(run())


async def test_oversize_request_waits_for_a_full_bucket_and_its_debt_delays_the_next(fake_clock: FakeClock):
    bucket = TokenBucket(60, clock=fake_clock, sleep=fake_clock.sleep)  # 1/s, capacity 1
    await bucket.acquire(5)  # full bucket: granted at once, level -4
    assert bucket.level == pytest.approx(-4)
    start = fake_clock.now
    await bucket.acquire(1)
    assert fake_clock.now - start == pytest.approx(5.0)


async def test_credit_returns_unused_estimate(fake_clock: FakeClock):
    bucket = TokenBucket(6000, clock=fake_clock, sleep=fake_clock.sleep)  # 100/s, capacity 100
    await bucket.acquire(100)
    bucket.credit(60)  # the call used 40 of the 100 estimated
    start = fake_clock.now
    await bucket.acquire(60)
    assert fake_clock.now == start


async def test_waiters_are_served_first_come_first_served(fake_clock: FakeClock):
    bucket = TokenBucket(60, clock=fake_clock, sleep=fake_clock.sleep)
    order: list[int] = []

    async def take(index: int) -> None:
        await bucket.acquire()
        order.append(index)

    await asyncio.gather(*(take(i) for i in range(6)))
    assert order == list(range(6))


async def test_limiter_caps_concurrency():
    limiter = RateLimiter(concurrency=3)
    inside, peak = 0, 0

    async def work() -> None:
        nonlocal inside, peak
        async with limiter.slot(10):
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(work() for _ in range(12)))
    assert peak == 3


async def test_hold_off_pauses_every_new_request(fake_clock: FakeClock):
    limiter = RateLimiter(concurrency=4, clock=fake_clock, sleep=fake_clock.sleep)
    limiter.hold_off(7.5)
    start = fake_clock.now
    async with limiter.slot(1):
        pass
    assert fake_clock.now - start == pytest.approx(7.5)


async def test_slot_settle_corrects_the_token_estimate(fake_clock: FakeClock):
    limiter = RateLimiter(concurrency=1, tpm=6000, clock=fake_clock, sleep=fake_clock.sleep)
    async with limiter.slot(100) as slot:
        slot.settle(30)
    assert limiter.tokens.level == pytest.approx(70)


async def test_a_cancelled_waiter_gives_its_slot_back(fake_clock: FakeClock):
    limiter = RateLimiter(concurrency=1, rpm=60, clock=fake_clock, sleep=fake_clock.sleep)
    async with limiter.slot(1):
        pass
    waiter = asyncio.ensure_future(limiter.slot(1).__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not limiter._semaphore.locked()


async def test_requests_per_minute_hold_at_the_server(make_gateway: MakeGateway, fake_server: FakeServer):
    gateway = make_gateway(case_named("openai"), cache=None, rpm=1200, concurrency=50)  # 20/s, burst 20
    prompts = [[{"role": "user", "content": f"r{i}"}] for i in range(50)]
    await asyncio.gather(*(gateway.chat(p) for p in prompts))
    starts = sorted(r.started for r in fake_server.requests)
    span = starts[-1] - starts[0]
    # 20 at once, then 30 more at 20/s: 1.5 s on the client, less the first request's connection set-up.
    assert 1.3 <= span <= 3.0
    in_one_second = sum(1 for t in starts if starts[0] + 0.5 <= t < starts[0] + 1.5)
    assert 15 <= in_one_second <= 25
