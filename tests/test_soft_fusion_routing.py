"""Gated fusion learns to route: two tasks that want opposite answers to the same inputs, a pool of two
prompts each tuned to solve one of them, and a gate that starts uniform. Training must send each task to
its own prompt (the right answer is known), on a tiny config-built model."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from soft_prompts.api import train_fused_prompt, train_soft_prompt  # noqa: E402
from soft_prompts.config import TrainConfig  # noqa: E402
from soft_prompts.data import PromptExample, TaskData  # noqa: E402
from soft_prompts.scoring import label_probabilities  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402

INPUTS = [
    "review : the movie was great and fun answer :",
    "review : the film was terrible and boring answer :",
    "question : is the sky blue answer :",
    "sports : the player scored a goal answer :",
]
LABELS = (" positive", " negative")


def _task(name: str, label: str) -> TaskData:
    examples = tuple(PromptExample(text, label) for text in INPUTS)
    return TaskData(name, examples, examples, labels=LABELS)


SAYS_POSITIVE, SAYS_NEGATIVE = _task("says_positive", " positive"), _task("says_negative", " negative")


def _accuracy(prompted, tokenizer, task: TaskData, task_id: int = 0) -> float:
    probabilities = label_probabilities(prompted, tokenizer, INPUTS, LABELS, [task_id] * len(INPUTS))
    gold = torch.tensor(task.label_index("dev"))
    return float((probabilities.argmax(dim=-1) == gold).float().mean())


def test_gate_routes_each_task_to_the_prompt_that_solves_it():
    model, tokenizer = build_tiny_pair()
    single = TrainConfig(max_steps=40, batch_size=4, eval_every=0, learning_rate=0.1, use_accelerate=False)
    pool = []
    for task in (SAYS_POSITIVE, SAYS_NEGATIVE):
        run = train_soft_prompt(model, tokenizer, task, n_virtual_tokens=4, config=single)
        assert _accuracy(run.model, tokenizer, task) == 1.0, f"the pool prompt for {task.name} must solve it"
        pool.append(run.model.prompt.static_prompt())

    fusion_config = TrainConfig(
        max_steps=30,
        batch_size=8,
        eval_every=0,
        gate_learning_rate=0.05,
        loss_weighting="equal",
        use_accelerate=False,
    )
    # Tasks in the opposite order to the pool: the gate cannot succeed by leaving the identity in place.
    fused = train_fused_prompt(
        model, tokenizer, [SAYS_NEGATIVE, SAYS_POSITIVE], pool, config=fusion_config, use_target_prompt=False
    )
    gate = fused.gate_matrix  # rows: tasks (negative, positive); columns: pool (positive, negative)
    assert gate[0, 1] > 0.8, f"says_negative should use the negative prompt: {gate.tolist()}"
    assert gate[1, 0] > 0.8, f"says_positive should use the positive prompt: {gate.tolist()}"
    assert _accuracy(fused.model, tokenizer, SAYS_NEGATIVE, task_id=0) == 1.0
    assert _accuracy(fused.model, tokenizer, SAYS_POSITIVE, task_id=1) == 1.0
