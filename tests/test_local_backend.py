"""The ``local/`` backend end to end on a tiny model directory: registry, generation, label scoring,
micro-batching under concurrency, and errors wrapped into the backend error hierarchy."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

from orchestrator.backends.base import Backend, BackendSettings, ChatRequest, Fatal, Timeout
from orchestrator.backends.registry import create_backend
from tests.test_local_tiny import save_tiny_model

torch = pytest.importorskip("torch")

SENTIMENT = (("system", "Classify the sentiment of the review."), ("user", "the movie was great and fun"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-backend"))


@pytest.fixture
async def backend(model_dir):
    options = {"device": "cpu", "scoring_precision": "fp32"}  # exact comparisons below
    backend = create_backend(f"local/{model_dir}", BackendSettings(options=options))
    yield backend
    await backend.aclose()


async def test_registry_builds_a_backend_that_keeps_the_protocol(backend, model_dir):
    assert isinstance(backend, Backend)
    assert backend.model == f"local/{model_dir}"
    assert backend.supports_label_scoring and backend.supports_logprobs


async def test_completion_has_text_usage_and_finish_reason(backend):
    completion = await backend.complete(ChatRequest(messages=SENTIMENT, max_tokens=8))
    assert completion.model == backend.model
    assert completion.prompt_tokens > 10 and 1 <= completion.completion_tokens <= 8
    assert completion.finish_reason in ("stop", "length")
    assert completion.cost_usd == 0.0 and completion.latency_s > 0
    assert completion.logprobs is None


async def test_logprobs_when_asked(backend):
    request = ChatRequest(messages=SENTIMENT, max_tokens=6, logprobs=True, top_logprobs=2)
    completion = await backend.complete(request)
    assert "".join(lp.token for lp in completion.logprobs) == completion.text
    assert all(lp.logprob <= 0 and len(lp.top) == 2 for lp in completion.logprobs)


async def test_greedy_is_deterministic_and_seeded_sampling_reproducible(backend):
    greedy = ChatRequest(messages=SENTIMENT, max_tokens=10)
    assert (await backend.complete(greedy)).text == (await backend.complete(greedy)).text
    seeded = ChatRequest(messages=SENTIMENT, max_tokens=10, temperature=1.0, seed=11)
    assert (await backend.complete(seeded)).text == (await backend.complete(seeded)).text


async def test_label_probabilities_sum_to_one_and_follow_the_logprobs(backend):
    scores = await backend.score_labels(ChatRequest(messages=SENTIMENT), ["positive", "negative", "neutral"])
    assert set(scores.probs) == {"positive", "negative", "neutral"}
    assert sum(scores.probs.values()) == pytest.approx(1.0, abs=1e-9)
    total = sum(math.exp(v) for v in scores.logprobs.values())
    for label, prob in scores.probs.items():
        assert prob == pytest.approx(math.exp(scores.logprobs[label]) / total)
    assert scores.prompt_tokens > 10 and scores.cost_usd == 0.0


async def test_concurrent_requests_are_micro_batched_with_the_same_results(backend):
    requests = [
        ChatRequest(messages=(("system", "Classify the review."), ("user", f"review {i}: the film was fun")))
        for i in range(16)
    ]
    labels = ["positive", "negative"]
    sequential = [await backend.score_labels(r, labels) for r in requests]
    backend._batcher.batch_sizes.clear()
    concurrent = await asyncio.gather(*(backend.score_labels(r, labels) for r in requests))
    assert max(backend._batcher.batch_sizes) > 1, backend._batcher.batch_sizes
    for one, other in zip(sequential, concurrent, strict=True):
        for label in labels:
            assert other.logprobs[label] == pytest.approx(one.logprobs[label], abs=1e-4)
    generated = await asyncio.gather(
        *(backend.complete(ChatRequest(messages=r.messages, max_tokens=4)) for r in requests)
    )
    assert [g.text for g in generated] == [
        (await backend.complete(ChatRequest(messages=r.messages, max_tokens=4))).text for r in requests
    ]


async def test_bfloat16_scoring_stays_close_to_float32(backend, model_dir):
    fast = create_backend(f"local/{model_dir}", BackendSettings(options={"scoring_precision": "bf16"}))
    labels = ["positive", "negative", "neutral"]
    exact = await backend.score_labels(ChatRequest(messages=SENTIMENT), labels)
    approx = await fast.score_labels(ChatRequest(messages=SENTIMENT), labels)
    await fast.aclose()
    assert sum(approx.probs.values()) == pytest.approx(1.0, abs=1e-9)
    for label in labels:
        assert approx.probs[label] == pytest.approx(exact.probs[label], abs=0.05)


async def test_model_work_runs_on_one_worker_thread(backend):
    seen = []
    original = backend._engine.score
    backend._batcher._handlers["score"] = lambda jobs: (
        seen.append(threading.current_thread().name) or original(jobs)
    )
    await asyncio.gather(
        *(backend.score_labels(ChatRequest(messages=SENTIMENT), ["a", "b"]) for _ in range(4))
    )
    assert set(seen) == {"promptfusion-local-model"}


@pytest.mark.parametrize("labels", [[], ["yes", "yes"], ["yes", ""]], ids=["none", "repeated", "empty"])
async def test_bad_label_sets_are_fatal(backend, labels):
    with pytest.raises(Fatal) as error:
        await backend.score_labels(ChatRequest(messages=SENTIMENT), labels)
    assert error.value.status == 400


async def test_prompt_longer_than_the_context_is_fatal(backend):
    request = ChatRequest(messages=(("user", "the movie " * 400),))
    with pytest.raises(Fatal, match="context window"):
        await backend.complete(request)
    with pytest.raises(Fatal, match="context window"):
        await backend.score_labels(request, ["yes", "no"])


async def test_a_missing_model_is_fatal_and_names_the_path(tmp_path):
    backend = create_backend(f"local/{tmp_path}/absent", BackendSettings())
    with pytest.raises(Fatal, match="absent"):
        await backend.complete(ChatRequest(messages=SENTIMENT))
    await backend.aclose()


def test_unknown_options_and_empty_names_are_fatal():
    with pytest.raises(Fatal, match="unknown local backend option"):
        create_backend("local/smollm2-135m-instruct", BackendSettings(options={"devise": "cpu"}))
    with pytest.raises(Fatal, match="threads"):
        create_backend("local/smollm2-135m-instruct", BackendSettings(options={"threads": 0}))
    with pytest.raises(Fatal, match="scoring_precision"):
        create_backend("local/smollm2-135m-instruct", BackendSettings(options={"scoring_precision": "int8"}))
    from orchestrator.backends.local import LocalBackend

    with pytest.raises(Fatal, match="model name"):
        LocalBackend("local/", BackendSettings())


async def test_a_request_running_past_the_timeout_is_a_timeout(model_dir):
    backend = create_backend(f"local/{model_dir}", BackendSettings(timeout=0.001))
    await backend.load()  # loading is not subject to the request timeout
    with pytest.raises(Timeout):
        await backend.complete(ChatRequest(messages=SENTIMENT, max_tokens=200))
    await backend.aclose()


async def test_closed_backend_refuses_work(model_dir):
    backend = create_backend(f"local/{model_dir}", BackendSettings())
    await backend.complete(ChatRequest(messages=SENTIMENT, max_tokens=2))
    await backend.aclose()
    with pytest.raises(Fatal, match="closed"):
        await backend.complete(ChatRequest(messages=SENTIMENT, max_tokens=2))
