"""The shared backend contract, on the ``local/`` backend (a tiny model directory), through the Gateway.

Reuses the contract suite's fixtures and its backend-independent test; the HTTP-only cases (faults,
status codes, server request counts) do not apply to an in-process model, so their local
counterparts count the jobs the model worker ran instead of the requests a server received.
"""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.backends.base import ChatRequest, Fatal, Timeout
from orchestrator.gateway import Ledger, RetryPolicy
from tests.conftest import BackendCase, MakeGateway
from tests.test_backend_contract import HELLO
from tests.test_backend_contract import (
    test_plain_completion_has_text_usage_and_model as test_plain_completion_has_text_usage_and_model,
)
from tests.test_local_tiny import save_tiny_model

pytest.importorskip("torch")

__all__ = ["test_plain_completion_has_text_usage_and_model"]  # collected here with the local case


@pytest.fixture(scope="module")
def local_case(tmp_path_factory) -> BackendCase:
    directory = save_tiny_model(tmp_path_factory.mktemp("tiny-contract"))
    return BackendCase(
        "local", f"local/{directory}", http=False, supports_logprobs=True, options={"device": "cpu"}
    )


@pytest.fixture
def backend_case(local_case: BackendCase) -> BackendCase:
    """Overrides the suite's parametrised fixture: this module runs the contract on ``local/`` only."""
    return local_case


def jobs(gateway, kind: str) -> int:
    return gateway.backend._batcher.jobs_run[kind]


async def test_logprobs_join_to_the_text(local_case: BackendCase, make_gateway: MakeGateway):
    completion = await make_gateway(local_case).complete(
        ChatRequest.from_messages(HELLO, logprobs=True, top_logprobs=2)
    )
    assert completion.logprobs, "asked for logprobs and got none"
    assert "".join(lp.token for lp in completion.logprobs) == completion.text
    assert all(lp.logprob <= 0 and 1 <= len(lp.top) <= 2 for lp in completion.logprobs)


async def test_label_scores_are_native_cached_and_sum_to_one(
    local_case: BackendCase, make_gateway: MakeGateway
):
    gateway = make_gateway(local_case)
    first = await gateway.score_labels(HELLO, ["yes", "no", "maybe"])
    again = await gateway.score_labels(HELLO, ["yes", "no", "maybe"])
    assert sum(first.probs.values()) == pytest.approx(1.0)
    assert again.cached and dict(again.probs) == pytest.approx(dict(first.probs))
    assert jobs(gateway, "score") == 1


async def test_identical_concurrent_calls_run_once(local_case: BackendCase, make_gateway: MakeGateway):
    gateway = make_gateway(local_case)
    results = await asyncio.gather(*(gateway.chat(HELLO, max_tokens=5) for _ in range(5)))
    assert jobs(gateway, "generate") == 1
    assert len({r.text for r in results}) == 1 and sum(r.cached for r in results) == 4


async def test_rerunning_with_the_same_cache_runs_nothing(local_case, make_gateway: MakeGateway, tmp_path):
    from orchestrator.gateway import ResponseCache

    prompts = [[{"role": "user", "content": f"tell me about the cat number {i}"}] for i in range(3)]
    cache = ResponseCache(tmp_path / "local-cache.sqlite")
    first = [await make_gateway(local_case, cache=cache).chat(p, max_tokens=4) for p in prompts]
    again_gateway = make_gateway(local_case, cache=cache)
    again = [await again_gateway.chat(p, max_tokens=4) for p in prompts]
    assert [a.text for a in again] == [f.text for f in first] and all(a.cached for a in again)
    assert jobs(again_gateway, "generate") == 0
    cache.close()


async def test_a_bad_request_is_fatal_and_not_retried(local_case: BackendCase, make_gateway: MakeGateway):
    ledger = Ledger()
    gateway = make_gateway(local_case, ledger=ledger, retry=RetryPolicy(max_retries=3, initial_backoff=0.01))
    with pytest.raises(Fatal):
        await gateway.score_labels(HELLO, ["yes", "yes"])
    assert jobs(gateway, "score") == 1


async def test_a_slow_generation_times_out(local_case: BackendCase, make_gateway: MakeGateway):
    gateway = make_gateway(local_case, timeout=0.001, retry=RetryPolicy(max_retries=0))
    await gateway.backend.load()
    with pytest.raises(Timeout):
        await gateway.chat(HELLO, max_tokens=200)
