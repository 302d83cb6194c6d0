"""Length-bucketed batches: less padding, every example once per epoch, task mix unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from soft_prompts.bucketing import LengthBucketedSampler, padding_fraction  # noqa: E402
from soft_prompts.config import TrainConfig  # noqa: E402
from soft_prompts.data import PromptExample, TaskData  # noqa: E402
from soft_prompts.model import SoftPromptModel  # noqa: E402
from soft_prompts.prompt import PromptEmbedding  # noqa: E402
from soft_prompts.sampling import MixedTaskSampler  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402
from soft_prompts.trainer import train_prompt  # noqa: E402


def _epoch(sampler, steps: int, batch_size: int) -> list[list[tuple[int, int]]]:
    return [sampler.sample(batch_size) for _ in range(steps)]


def _lengths_of(batches, lengths) -> list[list[int]]:
    return [[lengths[task][index] for task, index in batch] for batch in batches]


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 200), min_size=32, max_size=32),
    seed=st.integers(0, 10_000),
)
def test_an_epoch_sees_every_example_once_with_no_more_padding(lengths, seed):
    batch_size, chunk_batches = 4, 4  # 32 examples: two chunks of 16 per epoch
    plain = MixedTaskSampler([32], 1.0, seed)
    bucketed = LengthBucketedSampler(MixedTaskSampler([32], 1.0, seed), [lengths], chunk_batches, seed)
    for epoch in range(2):
        batches = _epoch(bucketed, 8, batch_size)
        assert all(len(batch) == batch_size for batch in batches)
        assert sorted(index for batch in batches for _, index in batch) == list(range(32)), epoch
        plain_batches = _epoch(plain, 8, batch_size)
        # The same draws, regrouped within each chunk by length: never more padding than random batches.
        assert padding_fraction(_lengths_of(batches, [lengths])) <= padding_fraction(
            _lengths_of(plain_batches, [lengths])
        )


@pytest.mark.parametrize(("size", "batch_size"), [(16, 8), (8, 8), (24, 8), (12, 4)])
def test_a_chunk_never_spans_two_passes_of_a_small_set(size, batch_size):
    lengths = [[(index * 37) % 50 + 1 for index in range(size)]]
    bucketed = LengthBucketedSampler(MixedTaskSampler([size], 1.0, 0), lengths, 4, 0)
    per_epoch = size // batch_size
    for _ in range(3):
        batches = _epoch(bucketed, per_epoch, batch_size)
        assert all(len(set(batch)) == batch_size for batch in batches)  # no example twice in a batch
        assert sorted(index for batch in batches for _, index in batch) == list(range(size))


def test_padding_drops_on_varied_lengths_and_the_order_is_seeded():
    generator = torch.Generator().manual_seed(0)
    lengths = (torch.randint(20, 300, (64,), generator=generator)).tolist()
    plain = _epoch(MixedTaskSampler([64], 1.0, 0), 16, 8)
    bucketed_sampler = LengthBucketedSampler(MixedTaskSampler([64], 1.0, 0), [lengths], 4, 0)
    bucketed = _epoch(bucketed_sampler, 16, 8)
    plain_padding = padding_fraction(_lengths_of(plain, [lengths]))
    bucketed_padding = padding_fraction(_lengths_of(bucketed, [lengths]))
    assert plain_padding > 0.3
    assert bucketed_padding < plain_padding / 2
    again = _epoch(LengthBucketedSampler(MixedTaskSampler([64], 1.0, 0), [lengths], 4, 0), 16, 8)
    assert again == bucketed
    other = _epoch(LengthBucketedSampler(MixedTaskSampler([64], 1.0, 1), [lengths], 4, 1), 16, 8)
    assert other != bucketed
    # Batches are handed out in a random order, not from shortest to longest.
    longest = [max(batch) for batch in _lengths_of(bucketed, [lengths])]
    assert longest != sorted(longest) and longest != sorted(longest, reverse=True)


def test_task_mix_and_passes_are_the_plain_samplers():
    lengths = [[5, 50, 10, 40, 20, 30], [7, 70, 17]]
    bucketed = LengthBucketedSampler(MixedTaskSampler([6, 3], 1.0, seed=3), lengths, 3, seed=3)
    draws = [pair for _ in range(300) for pair in bucketed.sample(4)]  # 100 chunks of 12 draws
    assert sum(task == 0 for task, _ in draws) / len(draws) == pytest.approx(6 / 9, abs=0.05)
    for task, size in ((0, 6), (1, 3)):
        counts = [sum(1 for t, index in draws if t == task and index == i) for i in range(size)]
        # The plain sampler's shuffled cycles, regrouped within chunks: each example once per pass.
        assert max(counts) - min(counts) <= 1


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="chunk_batches"):
        LengthBucketedSampler(MixedTaskSampler([2], 1.0, 0), [[1, 2]], 0, 0)
    with pytest.raises(ValueError, match="lengths do not match"):
        LengthBucketedSampler(MixedTaskSampler([2], 1.0, 0), [[1, 2, 3]], 2, 0)
    with pytest.raises(ValueError, match="bucket_batches"):
        TrainConfig(bucket_batches=0)
    assert padding_fraction([[3, 3], [1]]) == 0.0
    assert padding_fraction([[1, 3]]) == pytest.approx(1 / 3)  # 4 real tokens in 2 x 3 positions


def test_training_batches_are_bucketed_by_default_and_not_with_one_batch_per_chunk(monkeypatch):
    words = "review : the movie film was great fun terrible boring answer : positive negative very and so"
    model, tokenizer = build_tiny_pair((words,))
    short = ["review : great answer :", "review : boring answer :"]
    long = [
        "review : the movie was very very great and so so fun and great answer :",
        "review : the film was very very terrible and so so boring and boring answer :",
    ]
    train = tuple(
        PromptExample(text, target)
        for pair in (short, long)
        for text, target in zip(pair * 4, [" positive", " negative"] * 4, strict=True)
    )
    task = TaskData("sentiment", train, labels=(" positive", " negative"))
    seen: list[list[int]] = []
    import soft_prompts.trainer as trainer_module

    original = trainer_module.collate

    def recording_collate(rows, pad_id):
        seen.append([len(row.input_ids) + len(row.target_ids) for row in rows])
        return original(rows, pad_id)

    monkeypatch.setattr(trainer_module, "collate", recording_collate)

    def padding(**overrides) -> float:
        seen.clear()
        prompt = PromptEmbedding(torch.zeros(2, model.config.hidden_size))
        config = TrainConfig(max_steps=4, batch_size=4, eval_every=0, use_accelerate=False, **overrides)
        train_prompt(SoftPromptModel(model, prompt), tokenizer, [task], config)
        return padding_fraction(seen)

    assert padding() == 0.0  # 8 short + 8 long rows, 4 batches of 4 from one chunk: no padding at all
    assert padding(bucket_batches=1) > 0.1
