"""Packed, batched label scoring equals scoring each label on its own, whatever the batch looks like."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.local_model.chat import encode_chat, encode_labels
from orchestrator.local_model.scoring import ScoringItem, plan_chunks, plan_groups, score_items
from tests.test_local_tiny import build_tiny_pair

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_pair():
    return build_tiny_pair()


INSTRUCTION = "Classify the sentiment of the review. Answer with one word."
REVIEWS = ["the movie was great", "terrible and boring film, a man sleeps", "fun", "is the dog in the park?"]
LABEL_SETS = [("positive", "negative"), ("entailment", "neutral", "contradiction"), ("yes", "no")]


def reference_scores(model, item: ScoringItem) -> list[float]:
    """Each label appended to the prompt on its own, one unpadded forward pass each."""
    scores = []
    for label in item.label_ids:
        ids = torch.tensor([list(item.prompt_ids) + list(label)])
        with torch.inference_mode():
            logprobs = model(input_ids=ids).logits[0].log_softmax(-1)
        start = len(item.prompt_ids) - 1
        scores.append(sum(float(logprobs[start + k, token]) for k, token in enumerate(label)))
    return scores


def make_items(tokenizer, instruction=INSTRUCTION):
    items = []
    for review in REVIEWS:
        for labels in LABEL_SETS:
            prompt = encode_chat(tokenizer, [("system", instruction), ("user", review)])
            items.append(ScoringItem(tuple(prompt), tuple(map(tuple, encode_labels(tokenizer, labels)))))
    return items


def test_labels_have_several_tokens_so_packing_is_exercised(tiny_pair):
    _, tokenizer = tiny_pair
    lengths = [len(ids) for labels in LABEL_SETS for ids in encode_labels(tokenizer, labels)]
    assert max(lengths) >= 2


@pytest.mark.parametrize("max_batch_tokens", [64, 4096])
def test_batched_scores_equal_one_label_at_a_time(tiny_pair, max_batch_tokens):
    model, tokenizer = tiny_pair
    items = make_items(tokenizer)
    batched = score_items(
        model, items, pad_token_id=tokenizer.pad_token_id, max_batch_tokens=max_batch_tokens
    )
    for item, scores in zip(items, batched, strict=True):
        assert scores == pytest.approx(reference_scores(model, item), abs=1e-4)


def test_shared_prefix_path_matches_and_is_taken(tiny_pair, monkeypatch):
    """Prompts sharing a long instruction share its KV cache; results must not change."""
    import orchestrator.local_model.scoring as scoring

    model, tokenizer = tiny_pair
    items = make_items(tokenizer, instruction=INSTRUCTION * 3)
    forward_calls = []
    original = model.forward

    def spy(*args, **kwargs):
        kv_cache = kwargs.get("cache", kwargs.get("past_key_values"))  # renamed in transformers 5.24
        forward_calls.append((kwargs["input_ids"].shape, kv_cache is not None))
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    shared = score_items(model, items, pad_token_id=tokenizer.pad_token_id)
    # One prefix pass (batch 1), then one pass for all twelve examples on top of its cache.
    assert [(shape[0], cached) for shape, cached in forward_calls] == [(1, False), (len(items), True)]
    monkeypatch.setattr(scoring, "MIN_SHARED_PREFIX", 10**9)
    unshared = score_items(model, items, pad_token_id=tokenizer.pad_token_id)
    for a, b in zip(shared, unshared, strict=True):
        assert a == pytest.approx(b, abs=1e-4)


def test_an_items_scores_do_not_depend_on_its_batch_companions(tiny_pair):
    """Left padding and masking: a short prompt scores the same next to a much longer one."""
    model, tokenizer = tiny_pair
    short, *_ = make_items(tokenizer)
    long_prompt = encode_chat(tokenizer, [("user", " ".join(REVIEWS * 6))])
    long_item = ScoringItem(tuple(long_prompt), short.label_ids)
    alone = score_items(model, [short], pad_token_id=tokenizer.pad_token_id)[0]
    together = score_items(model, [long_item, short], pad_token_id=tokenizer.pad_token_id)[1]
    assert together == pytest.approx(alone, abs=1e-4)


def test_scores_are_log_likelihoods(tiny_pair):
    model, tokenizer = tiny_pair
    scores = score_items(model, make_items(tokenizer), pad_token_id=tokenizer.pad_token_id)
    assert all(s < 0 for row in scores for s in row)


@pytest.mark.parametrize(
    "item",
    [ScoringItem((), ((1,),)), ScoringItem((1, 2), ()), ScoringItem((1, 2), ((3,), ()))],
    ids=["empty-prompt", "no-labels", "empty-label"],
)
def test_malformed_items_are_rejected(tiny_pair, item):
    model, tokenizer = tiny_pair
    with pytest.raises(ValueError, match="non-empty"):
        score_items(model, [item], pad_token_id=tokenizer.pad_token_id)


@pytest.mark.parametrize("labels", [[], ["yes", "yes"], ["yes", ""]])
def test_bad_label_sets_are_rejected(tiny_pair, labels):
    _, tokenizer = tiny_pair
    with pytest.raises(ValueError):
        encode_labels(tokenizer, labels)


@given(st.lists(st.integers(1, 300), max_size=40), st.integers(1, 2000))
def test_plan_chunks_partitions_and_respects_the_budget(lengths, budget):
    chunks = plan_chunks(lengths, budget)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(len(lengths)))
    for chunk in chunks:
        # Only an item longer than the budget may exceed it, and then it is alone.
        assert len(chunk) * max(lengths[i] for i in chunk) <= budget or len(chunk) == 1


@settings(max_examples=60)
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=12), max_size=20), st.integers(1, 6))
def test_plan_groups_partitions_and_groups_share_a_prefix(prompts, min_shared):
    groups = plan_groups(prompts, min_shared)
    assert sorted(i for group in groups for i in group) == list(range(len(prompts)))
    for group in groups:
        first = prompts[group[0]]
        for index in group[1:]:
            other = prompts[index]
            common = next(
                (k for k, (a, b) in enumerate(zip(first, other, strict=False)) if a != b),
                min(len(first), len(other)),
            )
            assert min(common, len(first) - 1, len(other) - 1) >= min_shared


def test_under_the_default_precision_a_requests_scores_do_not_depend_on_its_micro_batch(tiny_pair):
    """bfloat16 autocast moves label probabilities with the make-up of the micro-batch a request
    lands in (so two runs with one seed differ); the default precision keeps them put."""
    import math
    import random

    from orchestrator.local_model import LocalEngine, LocalModelOptions, ScoreJob

    model, tokenizer = tiny_pair
    words = " ".join(REVIEWS).split()
    rng = random.Random(0)
    jobs = [
        ScoreJob(
            (("system", INSTRUCTION), ("user", " ".join(rng.choices(words, k=rng.randint(2, 40))))), labels
        )
        for labels in LABEL_SETS
        for _ in range(5)
    ]

    def probabilities(logprobs):
        weights = [math.exp(value - max(logprobs)) for value in logprobs]
        return [weight / sum(weights) for weight in weights]

    def drift(options: LocalModelOptions) -> float:
        engine = LocalEngine("tiny", options, model=model, tokenizer=tokenizer)
        together = engine.score(jobs)
        return max(
            abs(a - b)
            for job, batched in zip(jobs, together, strict=True)
            for a, b in zip(
                probabilities(engine.score([job])[0].logprobs), probabilities(batched.logprobs), strict=True
            )
        )

    assert LocalModelOptions().scoring_precision == "fp32"
    assert drift(LocalModelOptions()) < 1e-5
    assert drift(LocalModelOptions(scoring_precision="bfloat16")) > 1e-4  # this batch shows the effect
