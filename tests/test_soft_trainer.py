"""Training loop, task sampling and loss weighting on a tiny config-built model."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from soft_prompts.config import FusionConfig, TrainConfig  # noqa: E402
from soft_prompts.data import PromptExample, TaskData  # noqa: E402
from soft_prompts.fusion import GatedPromptFusion  # noqa: E402
from soft_prompts.losses import (  # noqa: E402
    DynamicWeightAverage,
    UncertaintyWeighting,
    build_loss_weighting,
    per_task_mean,
)
from soft_prompts.model import SoftPromptModel  # noqa: E402
from soft_prompts.prompt import PromptEmbedding  # noqa: E402
from soft_prompts.sampling import MixedTaskSampler, task_probabilities  # noqa: E402
from soft_prompts.tiny import build_tiny_pair  # noqa: E402
from soft_prompts.trainer import train_prompt  # noqa: E402

POSITIVE = ["review : the movie was great and fun answer :", "review : the film was fun answer :"]
NEGATIVE = ["review : the film was terrible and boring answer :", "review : boring film answer :"]
SENTIMENT = TaskData(
    "sentiment",
    tuple(
        [PromptExample(t, " positive") for t in POSITIVE] + [PromptExample(t, " negative") for t in NEGATIVE]
    ),
    tuple([PromptExample(POSITIVE[0], " positive"), PromptExample(NEGATIVE[0], " negative")]),
    labels=(" positive", " negative"),
)
QUESTIONS = TaskData(
    "questions",
    (
        PromptExample("question : is the sky blue answer :", " true"),
        PromptExample("question : is the film boring answer :", " false"),
    ),
    (PromptExample("question : is the sky blue answer :", " true"),),
    labels=(" true", " false"),
)


def _config(**overrides) -> TrainConfig:
    values = {
        "max_steps": 30,
        "batch_size": 4,
        "eval_every": 0,
        "learning_rate": 0.1,
        "use_accelerate": False,
    }
    values.update(overrides)
    return TrainConfig(**values)


def _single(model, seed: int = 0) -> SoftPromptModel:
    generator = torch.Generator().manual_seed(seed)
    return SoftPromptModel(model, PromptEmbedding(torch.randn(4, 16, generator=generator) * 0.5))


def test_training_lowers_loss_and_touches_only_the_prompt():
    model, tokenizer = build_tiny_pair()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    prompted = _single(model)
    result = train_prompt(prompted, tokenizer, [SENTIMENT], _config(max_steps=40))
    losses = [record.loss for record in result.history]
    assert result.steps == 40 and len(losses) == 40
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5
    assert all(parameter.grad is None for parameter in model.parameters())
    assert all(torch.equal(before[name], p) for name, p in model.named_parameters())
    assert result.train_tokens > 0 and result.history[-1].tokens_per_second > 0
    assert not prompted.training


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_training_lowers_loss_in_either_precision(precision):
    from soft_prompts.api import train_soft_prompt

    model, tokenizer = build_tiny_pair()
    run = train_soft_prompt(
        model, tokenizer, SENTIMENT, n_virtual_tokens=4, config=_config(max_steps=40, precision=precision)
    )
    expected = torch.bfloat16 if precision == "bf16" else None
    assert run.model.autocast_dtype == expected
    assert run.model.prompt.embedding.dtype == torch.float32
    losses = [record.loss for record in run.result.history]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.5
    assert all(parameter.grad is None for parameter in model.parameters())


def test_same_seed_same_prompt_and_accelerate_matches_plain_loop():
    pytest.importorskip("accelerate")
    model, tokenizer = build_tiny_pair()
    prompts = []
    for seed, use_accelerate in ((3, False), (3, True), (4, False)):
        prompted = _single(model)
        train_prompt(
            prompted, tokenizer, [SENTIMENT], _config(max_steps=8, seed=seed, use_accelerate=use_accelerate)
        )
        prompts.append(prompted.prompt.static_prompt())
    torch.testing.assert_close(prompts[0], prompts[1])
    assert not torch.allclose(prompts[0], prompts[2])


def test_early_stopping_restores_the_best_prompt():
    model, tokenizer = build_tiny_pair()
    prompted = _single(model)
    initial = prompted.prompt.static_prompt()
    scores = iter([0.9, 0.5, 0.4, 0.3, 0.2, 0.1])
    seen = []
    result = train_prompt(
        prompted,
        tokenizer,
        [SENTIMENT],
        _config(max_steps=50, eval_every=2, patience=3),
        progress=seen.append,
        dev_scorer=lambda _model: next(scores),
    )
    assert result.stopped_early and result.steps == 6
    assert result.best_step == 0 and result.best_dev_score == pytest.approx(0.9)
    assert [step for step, _ in result.dev_curve] == [0, 2, 4, 6]
    torch.testing.assert_close(prompted.prompt.static_prompt(), initial)
    assert seen[0].step == 0 and math.isnan(seen[0].loss) and seen[0].dev_score == pytest.approx(0.9)
    assert [record.dev_score for record in seen if record.dev_score is not None] == pytest.approx(
        [0.9, 0.5, 0.4, 0.3]
    )


def test_default_dev_scorer_is_accuracy_on_labelled_tasks():
    model, tokenizer = build_tiny_pair()
    result = train_prompt(_single(model), tokenizer, [SENTIMENT], _config(max_steps=20, eval_every=10))
    assert [step for step, _ in result.dev_curve] == [0, 10, 20]
    assert all(score in (0.0, 0.5, 1.0) for _, score in result.dev_curve)
    assert result.best_dev_score == max(score for _, score in result.dev_curve)


def test_dev_loss_scorer_for_free_form_tasks():
    model, tokenizer = build_tiny_pair()
    story = TaskData(
        "story",
        (
            PromptExample("tell me a short story", " about a cat"),
            PromptExample("tell me a story", " about a dog"),
        ),
        (PromptExample("tell me a short story", " about a cat"),),
    )
    result = train_prompt(_single(model), tokenizer, [story], _config(max_steps=20, eval_every=10))
    scores = [score for _, score in result.dev_curve]
    assert all(score < 0 for score in scores)
    assert scores[-1] > scores[0]


@pytest.mark.parametrize("weighting", ["uncertainty", "dwa", "equal"])
def test_multi_task_fusion_training(weighting):
    model, tokenizer = build_tiny_pair()
    config = FusionConfig(num_tasks=2, pool_size=3, n_virtual_tokens=4, token_dim=16)
    torch.manual_seed(0)
    fusion = GatedPromptFusion(config, torch.randn(3, 4, 16) * 0.5)
    prompted = SoftPromptModel(model, fusion)
    records = []
    result = train_prompt(
        prompted,
        tokenizer,
        [SENTIMENT, QUESTIONS],
        _config(max_steps=24, loss_weighting=weighting, dwa_window=4, task_sampling_temperature=2.0),
        progress=records.append,
    )
    assert result.steps == 24
    assert set(records[-1].loss_weights) == {"sentiment", "questions"}
    assert any(len(record.task_losses) == 2 for record in records), "batches must mix tasks"
    weights = list(records[-1].loss_weights.values())
    if weighting == "equal":
        assert weights == [1.0, 1.0]
    else:
        assert weights != [1.0, 1.0]
    gate = fusion.task_gate_matrix()
    torch.testing.assert_close(gate.sum(dim=1), torch.ones(2))
    assert not torch.allclose(gate, torch.full((2, 3), 1 / 3)), "the gate must have learned something"
    assert fusion.pool.grad is None and all(p.grad is None for p in model.parameters())


def test_task_probabilities_and_sampler():
    probabilities = task_probabilities([100, 10, 1], 1.0)
    torch.testing.assert_close(probabilities, torch.tensor([100, 10, 1]) / 111.0)
    flat = task_probabilities([100, 10, 1], 1e6)
    torch.testing.assert_close(flat, torch.full((3,), 1 / 3), atol=1e-4, rtol=0)
    sqrt = task_probabilities([100, 1], 2.0)
    torch.testing.assert_close(sqrt, torch.tensor([10 / 11, 1 / 11]))
    with pytest.raises(ValueError, match="sizes must be positive"):
        task_probabilities([3, 0], 1.0)
    sampler = MixedTaskSampler([3, 5], temperature=1.0, seed=0)
    draws = [pair for _ in range(40) for pair in sampler.sample(4)]
    for task, size in ((0, 3), (1, 5)):
        indices = [index for t, index in draws if t == task]
        assert set(indices) == set(range(size))
        # Shuffled cycles: each example appears once per pass, so counts differ by at most one pass.
        counts = [indices.count(i) for i in range(size)]
        assert max(counts) - min(counts) <= 1
    again = MixedTaskSampler([3, 5], temperature=1.0, seed=0)
    assert [pair for _ in range(40) for pair in again.sample(4)] == draws


def test_per_task_mean_and_weightings():
    losses = torch.tensor([1.0, 3.0, 2.0, 10.0])
    means, present = per_task_mean(losses, torch.tensor([0, 0, 2, 2]), 3)
    torch.testing.assert_close(means, torch.tensor([2.0, 0.0, 6.0]))
    assert present.tolist() == [True, False, True]
    uncertainty = UncertaintyWeighting(3)
    with torch.no_grad():
        uncertainty.log_variance.copy_(torch.tensor([0.0, 5.0, math.log(2.0)]))
    expected = (2.0 + (6.0 / 2.0 + 0.5 * math.log(2.0))) / 2
    assert float(uncertainty(means, present).detach()) == pytest.approx(expected)
    torch.testing.assert_close(uncertainty.weights(), torch.tensor([1.0, math.exp(-5.0), 0.5]))
    dwa = DynamicWeightAverage(2, temperature=1.0, window=1)
    both = torch.tensor([True, True])
    dwa(torch.tensor([1.0, 1.0]), both)
    dwa(torch.tensor([0.5, 1.0]), both)  # task 0 improves (ratio 0.5), task 1 stalls (ratio 1)
    weights = dwa.weights()
    expected_weights = 2 * torch.softmax(torch.tensor([0.5, 1.0]), dim=0)
    torch.testing.assert_close(weights, expected_weights)
    assert weights[1] > weights[0]
    assert isinstance(build_loss_weighting("uncertainty", 1), type(build_loss_weighting("equal", 1)))
    with pytest.raises(ValueError, match="unknown kind"):
        build_loss_weighting("magic", 2)


def test_batch_size_is_fitted_to_free_memory(monkeypatch):
    import soft_prompts.devices

    model, tokenizer = build_tiny_pair()
    roomy = train_prompt(_single(model), tokenizer, [SENTIMENT], _config(max_steps=1, batch_size=4))
    assert roomy.batch_size == 4
    monkeypatch.setattr(soft_prompts.devices, "available_memory_bytes", lambda plan: 1)
    tight = train_prompt(_single(model), tokenizer, [SENTIMENT], _config(max_steps=1, batch_size=4))
    assert tight.batch_size == 1
    fixed = train_prompt(_single(model), tokenizer, [SENTIMENT], _config(max_steps=1, fit_batch_size=False))
    assert fixed.batch_size == 4
