"""Retry policy: what is retried, how long it waits, and that Retry-After is a floor."""

from __future__ import annotations

import random

import pytest
from tenacity import RetryCallState

from orchestrator.backends.base import BudgetExceeded, Fatal, RateLimited, Timeout, Transient, Unsupported
from orchestrator.gateway import RetryPolicy
from orchestrator.gateway.retry import BackoffWait
from tests.conftest import FakeClock, MakeGateway, case_named
from tests.fakeserver import FakeServer, Fault, Reply

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (Transient("5xx"), True),
        (Timeout("slow"), True),
        (RateLimited("429", retry_after=2.0), True),
        (RateLimited("429 for an hour", retry_after=3600.0), False),
        (Fatal("401", status=401), False),
        (Unsupported("no logprobs"), False),
        (BudgetExceeded("out", budget="calls"), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error, retried):
    assert RetryPolicy().should_retry(error) is retried


def _wait_after(wait: BackoffWait, attempt: int, error: BaseException) -> float:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return wait(state)


def test_backoff_grows_exponentially_with_bounded_jitter():
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=4.0, jitter=0.5)
    wait = BackoffWait(policy, random.Random(1))
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        value = _wait_after(wait, attempt, Transient("x"))
        assert base <= value <= base * 1.5


def test_retry_after_is_a_floor_with_a_little_spread():
    wait = BackoffWait(RetryPolicy(initial_backoff=0.1), random.Random(2))
    values = [_wait_after(wait, 1, RateLimited("429", retry_after=3.0)) for _ in range(50)]
    assert all(3.0 <= v <= 3.3 for v in values)
    assert len(set(values)) > 1  # jittered, so a crowd does not come back at once


async def test_gateway_retries_with_injected_sleep(
    make_gateway: MakeGateway, fake_server: FakeServer, fake_clock: FakeClock
):
    fake_server.script.push(Fault.rate_limit("7"), Fault.http_status(500), Reply("finally"))
    policy = RetryPolicy(max_retries=3, initial_backoff=0.5, max_backoff=8.0)
    gateway = make_gateway(case_named("openai"), retry=policy, clock=fake_clock)
    completion = await gateway.chat(HELLO)
    assert completion.text == "finally"
    assert fake_server.count() == 3
    assert fake_clock.sleeps[0] >= 7.0  # Retry-After: the retry sleep
    assert 1.0 <= fake_clock.sleeps[1] <= 1.5  # second backoff: 2 * 0.5 plus jitter


async def test_retry_after_beyond_the_policy_limit_fails_fast(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.rate_limit("3600"))
    gateway = make_gateway(case_named("openai"), retry=RetryPolicy(max_retries=3, max_retry_after=60))
    with pytest.raises(RateLimited) as caught:
        await gateway.chat(HELLO)
    assert caught.value.retry_after == pytest.approx(3600)
    assert fake_server.count() == 1


async def test_http_date_retry_after_is_honoured(
    make_gateway: MakeGateway, fake_server: FakeServer, fake_clock: FakeClock
):
    import email.utils
    import time

    fake_server.script.push(Fault.rate_limit(email.utils.formatdate(time.time() + 30, usegmt=True)))
    gateway = make_gateway(case_named("anthropic"), retry=RetryPolicy(max_retries=1), clock=fake_clock)
    await gateway.chat(HELLO)
    assert 28.0 <= fake_clock.sleeps[0] <= 33.0
