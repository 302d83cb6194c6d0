"""The ledger: usage and cost per role and model, every call sent to the sink."""

from __future__ import annotations

import pytest

from orchestrator.backends.base import Fatal
from orchestrator.gateway import CallRecord, Ledger
from tests.conftest import BackendCase, MakeGateway, case_named
from tests.fakeserver import FakeServer, Fault, Reply


def prompt(index: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"question {index}"}]


async def test_usage_per_role_and_model_with_every_record_in_the_sink(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    records: list[CallRecord] = []
    ledger = Ledger(sink=records.append)
    reference = make_gateway(case_named("openai"), ledger=ledger, role="reference")
    judge = make_gateway(case_named("anthropic"), ledger=ledger, role="judge")

    fake_server.script.push(Reply("a", prompt_tokens=100, completion_tokens=10))
    await reference.chat(prompt(0))
    fake_server.script.push(Fault.http_status(503), Reply("b", prompt_tokens=200, completion_tokens=20))
    await reference.chat(prompt(1))
    await reference.chat(prompt(0))  # cache hit
    fake_server.script.push(Reply("c", prompt_tokens=50, completion_tokens=5))
    await judge.chat(prompt(2))
    fake_server.script.push(Fault.http_status(401))
    with pytest.raises(Fatal):
        await judge.chat(prompt(3))

    ref = ledger.usage(role="reference")
    assert (ref.calls, ref.cache_hits, ref.attempts, ref.errors) == (2, 1, 3, 0)
    assert (ref.prompt_tokens, ref.completion_tokens) == (300, 30)
    assert ref.cost_usd == pytest.approx((300 * 0.15 + 30 * 0.60) / 1e6)
    judge_usage = ledger.usage(role="judge", model="anthropic/claude-haiku-4-5-20251001")
    assert (judge_usage.calls, judge_usage.errors, judge_usage.total_tokens) == (2, 1, 55)
    assert ledger.usage().calls == 4
    assert set(ledger.by_role_model()) == {
        ("reference", "openai/gpt-4o-mini"),
        ("judge", "anthropic/claude-haiku-4-5-20251001"),
    }

    assert [(r.role, r.cached, r.attempts, r.error is not None) for r in records] == [
        ("reference", False, 1, False),
        ("reference", False, 2, False),
        ("reference", True, 0, False),
        ("judge", False, 1, False),
        ("judge", False, 1, True),
    ]
    assert records[-1].error.startswith("Fatal:") and "401" in records[-1].error
    assert all(len(r.key) == 64 and r.latency_s >= 0 for r in records)
    assert records[2].cost_usd == 0.0 and records[2].key == records[0].key


async def test_unknown_prices_are_counted_not_guessed(make_gateway: MakeGateway, fake_server: FakeServer):
    ledger = Ledger()
    case = BackendCase(
        "openai-unpriced",
        "openai/my-local-llama",
        http=True,
        supports_logprobs=True,
        api_base=lambda s: s.openai_base,
    )
    completion = await make_gateway(case, ledger=ledger).chat(prompt(0))
    assert completion.cost_usd is None
    usage = ledger.usage()
    assert (usage.calls, usage.unpriced_calls, usage.cost_usd) == (1, 1, 0.0)


async def test_a_failing_sink_raises_but_the_answer_is_kept(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    def broken_sink(record: CallRecord) -> None:
        raise OSError("run store is read-only")

    gateway = make_gateway(case_named("openai"), ledger=Ledger(sink=broken_sink))
    with pytest.raises(OSError, match="read-only"):
        await gateway.chat(prompt(0))
    gateway.ledger.sink = None
    assert (await gateway.chat(prompt(0))).cached
    assert fake_server.count() == 1
