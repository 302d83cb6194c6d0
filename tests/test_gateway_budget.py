"""Hard budgets: refused before sending, shared across gateways, never overshot by concurrent calls."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.backends.base import BudgetExceeded, Transient
from orchestrator.gateway import Budget
from tests.conftest import MakeGateway, case_named
from tests.fakeserver import FakeServer, Fault


def prompt(index: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question {index}"}]


def test_reservations_count_until_settled_or_released():
    budget = Budget(max_calls=2, max_tokens=1000)
    first = budget.reserve(400)
    second = budget.reserve(400)
    with pytest.raises(BudgetExceeded) as caught:
        budget.reserve(10)
    assert caught.value.budget == "calls"
    assert "budget.max_calls=2" in str(caught.value)
    budget.release(second)
    budget.settle(first, 120, None)
    assert budget.remaining() == {"calls": 1, "tokens": 880, "usd": None}
    with pytest.raises(RuntimeError, match="already"):
        budget.settle(first, 999, None)
    assert budget.used_tokens == 120


def test_each_budget_names_itself():
    with pytest.raises(BudgetExceeded) as tokens:
        Budget(max_tokens=100).reserve(101)
    assert tokens.value.budget == "tokens" and "budget.max_tokens=100" in str(tokens.value)
    with pytest.raises(BudgetExceeded) as usd:
        Budget(max_usd=0.01).reserve(10, usd=0.02)
    assert usd.value.budget == "usd" and "budget.max_usd=0.01" in str(usd.value)
    with pytest.raises(ValueError, match="budget.max_calls"):
        Budget(max_calls=-1)


async def test_call_budget_stops_before_sending_and_cache_hits_stay_free(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    budget = Budget(max_calls=3)
    gateway = make_gateway(case_named("openai"), budget=budget)
    for index in range(3):
        await gateway.chat(prompt(index))
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.chat(prompt(3))
    assert caught.value.budget == "calls"
    assert fake_server.count() == 3
    assert (await gateway.chat(prompt(1))).cached  # paid-for answers are still served
    assert budget.used_calls == 3


async def test_concurrent_calls_cannot_overshoot(make_gateway: MakeGateway, fake_server: FakeServer):
    fake_server.latency = 0.1
    budget = Budget(max_calls=4)
    gateway = make_gateway(case_named("anthropic"), budget=budget, concurrency=10)
    results = await asyncio.gather(*(gateway.chat(prompt(i)) for i in range(10)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(refused) == 6
    assert fake_server.count() == 4


async def test_token_budget_refuses_a_call_that_might_not_fit(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    budget = Budget(max_tokens=200)
    gateway = make_gateway(case_named("openai"), budget=budget, max_tokens=256)
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.chat(prompt(0))
    assert caught.value.budget == "tokens"
    assert fake_server.count() == 0
    small = await gateway.chat(prompt(0), max_tokens=50)
    assert budget.used_tokens == small.total_tokens


async def test_usd_budget_uses_the_price_before_the_call(make_gateway: MakeGateway, fake_server: FakeServer):
    # gpt-4o-mini: $0.60 per 1M output tokens, so 256 possible output tokens may cost ~$0.00015.
    budget = Budget(max_usd=0.0001)
    gateway = make_gateway(case_named("openai"), budget=budget, max_tokens=256)
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.chat(prompt(0))
    assert caught.value.budget == "usd"
    assert fake_server.count() == 0
    await gateway.chat(prompt(0), max_tokens=16)
    assert 0 < budget.used_usd < 0.0001


async def test_one_budget_is_shared_by_several_gateways(make_gateway: MakeGateway, fake_server: FakeServer):
    budget = Budget(max_calls=3)
    reference = make_gateway(case_named("openai"), budget=budget, role="reference")
    judge = make_gateway(case_named("anthropic"), budget=budget, role="judge")
    await reference.chat(prompt(0))
    await judge.chat(prompt(1))
    await reference.chat(prompt(2))
    with pytest.raises(BudgetExceeded):
        await judge.chat(prompt(3))
    assert fake_server.count() == 3


async def test_a_failed_call_counts_once_with_no_tokens(make_gateway: MakeGateway, fake_server: FakeServer):
    budget = Budget(max_calls=10)
    fake_server.script.push(*[Fault.http_status(500)] * 3)
    with pytest.raises(Transient):
        await make_gateway(case_named("openai"), budget=budget).chat(prompt(0))
    assert (budget.used_calls, budget.used_tokens) == (1, 0)
    assert budget.remaining()["calls"] == 9
