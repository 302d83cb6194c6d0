"""Timeouts and cancellation: a hung backend cannot hang the gateway, a cancelled call gives back
its budget reservation and its limiter slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from evaluators import EvalConfig, Example, TaskSpec, evaluate_prompt
from orchestrator.backends.base import ChatRequest, Completion, LabelScores, Timeout, Unsupported
from orchestrator.gateway import Budget, Gateway, GatewaySettings, Ledger, RetryPolicy
from tests.conftest import MakeGateway, case_named
from tests.fakeserver import FakeServer, Fault
from tests.fakeserver.script import Reply

HELLO = [{"role": "user", "content": "hello"}]


class HangingBackend:
    """A backend that ignores its own timeout and never answers (a wedged SDK or model)."""

    model = "hang/forever"
    supports_logprobs = False
    supports_label_scoring = False

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        raise Unsupported("no")

    async def aclose(self) -> None:
        return None


async def test_the_safety_timeout_stops_a_backend_that_hangs():
    backend = HangingBackend()
    ledger = Ledger()
    gateway = Gateway(
        backend,
        GatewaySettings(model="hang/forever", timeout=0.1),
        ledger=ledger,
        retry=RetryPolicy(max_retries=1, initial_backoff=0.01),
    )
    started = time.perf_counter()
    with pytest.raises(Timeout, match="no answer within"):
        await gateway.chat(HELLO)
    assert time.perf_counter() - started < 5.0
    assert backend.calls == 2  # a timeout is transient: retried once, then raised
    assert ledger.usage().errors == 1


async def test_cancelling_a_sent_call_counts_it_and_frees_its_slot(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.script.push(Fault.slow(5.0))
    budget = Budget(max_calls=5)
    gateway = make_gateway(case_named("openai"), budget=budget, concurrency=1)
    task = asyncio.ensure_future(gateway.chat(HELLO))
    while fake_server.count() == 0:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server got it, so the provider bills it: counted against the budget and in the ledger.
    assert budget.remaining()["calls"] == 4
    abandoned = gateway.ledger.usage()
    assert abandoned.calls == 1 and abandoned.errors == 1
    assert (await gateway.chat(HELLO)).text == "echo: hello"  # the single slot is free again


async def test_followers_of_a_failed_call_get_the_same_error(
    make_gateway: MakeGateway, fake_server: FakeServer
):
    fake_server.latency = 0.1
    fake_server.script.push(Fault.http_status(401))
    gateway = make_gateway(case_named("openai"))
    results = await asyncio.gather(*(gateway.chat(HELLO) for _ in range(4)), return_exceptions=True)
    assert fake_server.count() == 1
    assert all(type(r).__name__ == "Fatal" for r in results)


@pytest.mark.parametrize("scoring", ["label_scores", "generate"])
async def test_the_evaluator_scores_through_a_real_gateway(make_gateway, fake_server: FakeServer, scoring):
    # The evaluator's own calls (``score_labels(messages, labels)``, ``chat(messages, temperature=...,
    # max_tokens=...)``) reach the server and come back as answers, whichever protocol it uses.
    task = TaskSpec("toy", labels=("negative", "positive"), description="sentiment of a review")
    examples = [Example("a good film", "positive", id="0"), Example("a bad film", "negative", id="1")]
    probes = int(scoring == "label_scores")
    if probes:  # the label-scoring probe comes first: a reply without prompt_logprobs means first-token
        fake_server.script.push(Reply("ok"))
    fake_server.script.push(
        Reply("positive", top_logprobs=[("positive", -0.1), ("negative", -2.5)]),
        Reply("negative", top_logprobs=[("negative", -0.2), ("positive", -2.0)]),
    )
    config = EvalConfig(scoring=scoring, calibration="none", concurrency=1)
    report = await evaluate_prompt(
        "Label the review.", examples, task, make_gateway(case_named("openai")), config=config
    )
    assert report.scoring == scoring and report.failures == {}
    assert [r.prediction for r in report.examples] == ["positive", "negative"]
    assert report.scores["accuracy"] == 1.0
    assert fake_server.count() == 2 + probes
