"""``soft.processes: 2`` trains one prompt data-parallel through Accelerate (gloo on this CPU): the prompt's
gradients are all-reduced, so two processes on shards equal one process on the same global batch.

Tolerance: the saved prompts agree to 1e-4 (absolute; values are O(1)) after 3 AdamW steps at lr 0.3 in fp32.
The only difference is the order of fp32 reductions (two half-batch means averaged vs one full-batch mean);
Adam divides each coordinate's step by its gradient's running RMS, which enlarges that rounding in
coordinates with tiny gradients (measured: max 3.6e-5, mean 5e-6 over the 48 values). Rank 0's shard alone,
without the all-reduce, ends more than 1e-2 away, so the test fails if gradients are not averaged.
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from orchestrator.config import SoftConfig  # noqa: E402
from orchestrator.soft.data import SoftSplits  # noqa: E402
from orchestrator.soft.training import train_task_prompt  # noqa: E402
from orchestrator.tasks import Task  # noqa: E402
from orchestrator.tasks.task import Example  # noqa: E402
from soft_prompts.config import PromptInit  # noqa: E402
from soft_prompts.train_step import PromptTrainer  # noqa: E402

WORDS = "review the movie was great terrible fun boring plot actors positive negative"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from soft_prompts.tiny import build_tiny_pair

    model, tokenizer = build_tiny_pair((WORDS,), hidden_size=16, seed=1)
    folder = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _splits() -> SoftSplits:
    rng = random.Random(0)
    words = WORDS.split()[:-2]
    examples = tuple(
        Example(
            f"t:{i}",
            {"input": " ".join(rng.choice(words) for _ in range(rng.randint(2, 6)))},
            rng.choice(("positive", "negative")),
        )
        for i in range(24)
    )
    task = Task(name="tiny", examples=examples, labels=("positive", "negative"))
    return SoftSplits(task, train=examples[:16], dev=examples[16:20])


def _train(tiny_dir, out, processes: int):
    from orchestrator.local_model import load_causal_lm
    from soft_prompts.checkpoint import load_prompt_module

    settings = SoftConfig(
        steps=3,
        batch_size=4,
        learning_rate=0.3,
        eval_every=0,
        n_virtual_tokens=3,
        precision="fp32",
        processes=processes,
    )
    model, tokenizer = load_causal_lm(str(tiny_dir), device="cpu")
    record = train_task_prompt(
        model,
        tokenizer,
        str(tiny_dir),
        _splits(),
        PromptInit(kind="random", seed=2),
        settings,
        0,
        out,
        None,
        "tiny",
    )
    return load_prompt_module(record.prompt_dir).static_prompt()


def test_two_processes_equal_one_process_on_the_global_batch(tiny_dir, tmp_path, monkeypatch):
    parallel = _train(tiny_dir, tmp_path / "two", processes=2)
    single = _train(tiny_dir, tmp_path / "one", processes=1)
    assert torch.allclose(parallel, single, atol=1e-4, rtol=0)
    # rank 0's shard on its own (what a rank would do without the gradient all-reduce) ends elsewhere
    monkeypatch.setattr(PromptTrainer, "shard", lambda self, pairs: pairs[0::2])
    shard_only = _train(tiny_dir, tmp_path / "shard", processes=1)
    assert (shard_only - parallel).abs().max() > 1e-2
