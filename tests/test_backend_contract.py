"""The backend contract, run through the Gateway against a real loopback HTTP server.

``backend_case`` covers every backend (see ``tests/conftest.py``); the fault cases use
``http_backend_case`` because they script the HTTP server. Each test counts the requests the server
actually received, so "not retried" and "served from cache" are observed, not assumed.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator.backends.base import ChatRequest, Fatal, Timeout, Transient, Unsupported
from orchestrator.gateway import Ledger, ResponseCache, RetryPolicy
from tests.conftest import BackendCase, MakeGateway, case_named
from tests.fakeserver import FakeServer, Fault, Reply

HELLO = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "hello"}]


async def test_plain_completion_has_text_usage_and_model(
    backend_case: BackendCase, make_gateway: MakeGateway
):
    gateway = make_gateway(backend_case)
    completion = await gateway.chat(HELLO, max_tokens=16)
    assert completion.text.strip()
    assert completion.model == backend_case.model
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    assert completion.cached is False


async def test_http_completion_matches_the_server(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Reply("Paris is the capital.", prompt_tokens=21, completion_tokens=5))
    completion = await make_gateway(http_backend_case).chat(HELLO)
    assert completion.text == "Paris is the capital."
    assert (completion.prompt_tokens, completion.completion_tokens) == (21, 5)
    assert completion.finish_reason == "stop"
    body = fake_server.requests[-1].body
    sent = [m.get("content") for m in body["messages"]] + ([body["system"]] if "system" in body else [])
    assert "hello" in sent and "Answer briefly." in sent


@pytest.mark.parametrize(
    ("case_name", "input_per_mtok", "output_per_mtok"),
    [("openai", 0.15, 0.60), ("anthropic", 1.00, 5.00), ("litellm", 0.15, 0.60)],
)
async def test_cost_follows_the_models_price(
    case_name, input_per_mtok, output_per_mtok, make_gateway: MakeGateway, fake_server: FakeServer
):
    case = case_named(case_name)
    fake_server.script.push(Reply("ok", prompt_tokens=1000, completion_tokens=100))
    completion = await make_gateway(case).chat(HELLO)
    expected = (1000 * input_per_mtok + 100 * output_per_mtok) / 1e6
    assert completion.cost_usd == pytest.approx(expected, rel=1e-6)


async def test_logprobs_where_supported(http_backend_case: BackendCase, make_gateway: MakeGateway):
    gateway = make_gateway(http_backend_case)
    request = ChatRequest.from_messages(HELLO, logprobs=True, top_logprobs=2)
    completion = await gateway.complete(request)
    if not http_backend_case.supports_logprobs:
        assert completion.logprobs is None
        return
    assert completion.logprobs, "asked for logprobs and got none"
    assert "".join(lp.token for lp in completion.logprobs) == completion.text
    assert all(lp.logprob <= 0 and 1 <= len(lp.top) <= 2 for lp in completion.logprobs)


async def test_label_scores_from_top_logprobs_or_unsupported(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    gateway = make_gateway(http_backend_case)
    if http_backend_case.supports_logprobs:
        # openai/ first asks whether the server scores whole labels (this one ignores the field).
        assert await gateway.label_method() == "first_token"
    probes = fake_server.count()
    fake_server.script.push(
        Reply("Yes", top_logprobs=[("Yes", -0.1), (" yes", -2.0), ("No", -2.5), ("Maybe", -4)])
    )
    if not http_backend_case.supports_logprobs:
        with pytest.raises(Unsupported):
            await gateway.score_labels(HELLO, ["yes", "no"])
        assert fake_server.count() == 0  # refused before sending
        return
    scores = await gateway.score_labels(HELLO, ["yes", "no"])
    assert sum(scores.probs.values()) == pytest.approx(1.0)
    assert scores.probs["yes"] > 0.9 > scores.probs["no"] > 0
    assert fake_server.requests[-1].body["max_tokens"] == 1
    again = await gateway.score_labels(HELLO, ["yes", "no"])
    assert again.cached and again.probs == pytest.approx(scores.probs)
    assert fake_server.count() == probes + 1


async def test_429_waits_at_least_retry_after_then_succeeds(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.rate_limit(retry_after="1"))
    completion = await make_gateway(http_backend_case).chat(HELLO)
    assert completion.text == "echo: hello"
    first, second = fake_server.requests
    assert first.outcome == "rate_limit" and second.outcome == "reply"
    assert second.started - first.finished >= 1.0


async def test_500s_until_the_retry_limit_raise_transient(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(*[Fault.http_status(500)] * 3, Reply("too late"))
    ledger = Ledger()
    gateway = make_gateway(http_backend_case, ledger=ledger)  # max_retries=2 -> 3 attempts
    with pytest.raises(Transient) as caught:
        await gateway.chat(HELLO)
    assert not isinstance(caught.value, Fatal)
    assert "500" in str(caught.value)
    assert fake_server.count() == 3
    usage = ledger.usage()
    assert (usage.calls, usage.errors, usage.attempts) == (1, 1, 3)


async def test_503_then_success_is_retried(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.http_status(503))
    assert (await make_gateway(http_backend_case).chat(HELLO)).text == "echo: hello"
    assert fake_server.count() == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_fatal_and_not_retried(
    status: int, http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.http_status(status), Reply("should never be fetched"))
    with pytest.raises(Fatal) as caught:
        await make_gateway(http_backend_case).chat(HELLO)
    assert caught.value.status == status
    assert fake_server.count() == 1


async def test_timeout_is_a_timeout_error_not_a_hang(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.slow(5.0))
    gateway = make_gateway(http_backend_case, timeout=0.3, retry=RetryPolicy(max_retries=0))
    started = time.perf_counter()
    with pytest.raises(Timeout):
        await gateway.chat(HELLO)
    assert time.perf_counter() - started < 2.0
    assert fake_server.count() == 1


async def test_timeout_is_retried(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.slow(5.0))
    completion = await make_gateway(http_backend_case, timeout=0.3).chat(HELLO)
    assert completion.text == "echo: hello"
    assert fake_server.count() == 2


@pytest.mark.parametrize("fault", [Fault.drop(), Fault.malformed(), Fault.empty()], ids=lambda f: f.kind)
async def test_broken_answers_are_transient_and_retried(
    fault: Fault, http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(fault)
    completion = await make_gateway(http_backend_case).chat(HELLO)
    assert completion.text == "echo: hello"
    assert [r.outcome for r in fake_server.requests] == [fault.kind, "reply"]


@pytest.mark.parametrize("fault", [Fault.drop(), Fault.malformed(), Fault.empty()], ids=lambda f: f.kind)
async def test_broken_answers_every_time_raise_transient(
    fault: Fault, http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(fault, fault, fault)
    with pytest.raises(Transient):
        await make_gateway(http_backend_case).chat(HELLO)
    assert fake_server.count() == 3


async def test_rerunning_the_same_calls_makes_no_new_requests(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer, tmp_path
):
    prompts = [[{"role": "user", "content": f"question {i}"}] for i in range(5)]
    first_cache = ResponseCache(tmp_path / "shared.sqlite")
    first = [await make_gateway(http_backend_case, cache=first_cache).chat(p) for p in prompts]
    first_cache.close()
    assert fake_server.count() == 5
    reopened = ResponseCache(tmp_path / "shared.sqlite")
    try:
        ledger = Ledger()
        again = [
            await make_gateway(http_backend_case, cache=reopened, ledger=ledger).chat(p) for p in prompts
        ]
    finally:
        reopened.close()
    assert fake_server.count() == 5
    assert [c.text for c in again] == [c.text for c in first]
    assert all(c.cached for c in again)
    assert ledger.usage().cache_hits == 5 and ledger.usage().calls == 0


async def test_concurrency_limit_holds_at_the_server(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.latency = 0.2
    gateway = make_gateway(http_backend_case, concurrency=3)
    prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(9)]
    await asyncio.gather(*(gateway.chat(p) for p in prompts))
    assert fake_server.max_in_flight == 3


async def test_identical_concurrent_calls_are_sent_once(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.latency = 0.1
    gateway = make_gateway(http_backend_case)
    results = await asyncio.gather(*(gateway.chat(HELLO) for _ in range(5)))
    assert fake_server.count() == 1
    assert {r.text for r in results} == {"echo: hello"}
    assert sum(r.cached for r in results) == 4


async def test_sample_index_separates_samples_only_when_temperature_is_positive(
    http_backend_case: BackendCase, make_gateway: MakeGateway, fake_server: FakeServer
):
    gateway = make_gateway(http_backend_case)
    for index in range(3):
        await gateway.chat(HELLO, temperature=0.0, sample_index=index)
    assert fake_server.count() == 1
    for index in range(3):
        await gateway.chat(HELLO, temperature=0.7, sample_index=index)
    assert fake_server.count() == 4
