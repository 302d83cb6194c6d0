"""Batched decoding: greedy equals transformers' own greedy search, rows do not leak into each other,
seeded sampling is reproducible, stop strings and token limits end a row as documented."""

from __future__ import annotations

import pytest

from orchestrator.local_model.chat import encode_chat
from orchestrator.local_model.generation import GenerationParams, generate_batch
from tests.test_local_tiny import build_tiny_pair

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_pair():
    return build_tiny_pair()


CHATS = [
    [("user", "tell me a story")],
    [
        ("system", "Answer with one word."),
        ("user", "the film was terrible and boring, a man sleeps in the park"),
    ],
    [("user", "fun")],
]


def prompts_of(tokenizer):
    return [encode_chat(tokenizer, chat) for chat in CHATS]


def hf_greedy(model, tokenizer, prompt, max_new_tokens):
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([prompt]),
            attention_mask=torch.ones((1, len(prompt)), dtype=torch.long),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    return [t for t in out[0, len(prompt) :].tolist() if t != tokenizer.eos_token_id]


def test_greedy_matches_transformers_generate(tiny_pair):
    model, tokenizer = tiny_pair
    prompts = prompts_of(tokenizer)
    results = generate_batch(model, tokenizer, prompts, [GenerationParams(max_tokens=12)] * len(prompts))
    for prompt, result in zip(prompts, results, strict=True):
        expected = tokenizer.decode(hf_greedy(model, tokenizer, prompt, 12), skip_special_tokens=True)
        assert result.text == expected
        assert result.prompt_tokens == len(prompt)


def test_batched_rows_equal_rows_decoded_alone(tiny_pair):
    """Left padding and early-finishing rows leaving the KV cache must not change any row."""
    model, tokenizer = tiny_pair
    prompts = prompts_of(tokenizer)
    params = [GenerationParams(max_tokens=n) for n in (3, 15, 8)]
    together = generate_batch(model, tokenizer, prompts, params)
    for prompt, param, result in zip(prompts, params, together, strict=True):
        assert generate_batch(model, tokenizer, [prompt], [param])[0] == result


def test_max_tokens_ends_with_length(tiny_pair):
    model, tokenizer = tiny_pair
    result = generate_batch(model, tokenizer, prompts_of(tokenizer)[:1], [GenerationParams(max_tokens=5)])[0]
    if result.finish_reason == "length":
        assert result.completion_tokens == 5
    else:  # the model ended its turn first
        assert result.finish_reason == "stop" and result.completion_tokens <= 5


def test_stop_string_cuts_the_text_before_it(tiny_pair):
    model, tokenizer = tiny_pair
    prompt = prompts_of(tokenizer)[:1]
    free = generate_batch(model, tokenizer, prompt, [GenerationParams(max_tokens=30)])[0].text
    assert len(free) > 6, "the tiny model should produce some text"
    stop = free[4:6]
    stopped = generate_batch(model, tokenizer, prompt, [GenerationParams(max_tokens=30, stop=(stop,))])[0]
    assert stopped.finish_reason == "stop"
    assert stopped.text == free[: free.index(stop)]
    assert stop not in stopped.text


def test_seeded_sampling_is_reproducible_whatever_the_batch(tiny_pair):
    model, tokenizer = tiny_pair
    prompts = prompts_of(tokenizer)
    seeded = GenerationParams(max_tokens=20, temperature=1.0, seed=7)
    alone = generate_batch(model, tokenizer, prompts[:1], [seeded])[0]
    mixed = generate_batch(model, tokenizer, prompts, [seeded, GenerationParams(max_tokens=4), seeded])
    assert mixed[0] == alone
    others = {
        generate_batch(
            model, tokenizer, prompts[:1], [GenerationParams(max_tokens=20, temperature=1.0, seed=s)]
        )[0].text
        for s in range(5)
    }
    assert len(others) > 1, "different seeds should give different samples"


def test_logprobs_cover_the_text(tiny_pair):
    model, tokenizer = tiny_pair
    params = GenerationParams(max_tokens=10, logprobs=True, top_logprobs=3)
    result = generate_batch(model, tokenizer, prompts_of(tokenizer)[:1], [params])[0]
    assert result.logprobs is not None
    assert "".join(choice.token for choice in result.logprobs) == result.text
    for choice in result.logprobs:
        assert choice.logprob <= 0 and len(choice.top) == 3
        assert choice.top[0][1] >= choice.logprob  # greedy: the chosen token is the most likely
        assert [lp for _, lp in choice.top] == sorted((lp for _, lp in choice.top), reverse=True)


def test_no_logprobs_unless_asked(tiny_pair):
    model, tokenizer = tiny_pair
    result = generate_batch(model, tokenizer, prompts_of(tokenizer)[:1], [GenerationParams(max_tokens=3)])[0]
    assert result.logprobs is None


def test_prompt_filling_the_context_is_rejected(tiny_pair):
    model, tokenizer = tiny_pair
    too_long = [5] * model.config.max_position_embeddings
    with pytest.raises(ValueError, match="context window"):
        generate_batch(model, tokenizer, [too_long], [GenerationParams()])


@pytest.mark.parametrize("kwargs", [{"max_tokens": 0}, {"temperature": -0.1}])
def test_invalid_params_are_rejected(kwargs):
    with pytest.raises(ValueError):
        GenerationParams(**kwargs)
