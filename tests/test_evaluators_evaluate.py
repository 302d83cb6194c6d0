"""Batch evaluation through scripted scorer LLMs (plain async classes with the protocol shapes)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import numpy as np
import pytest

from evaluators import (
    AcceptancePolicy,
    EvalConfig,
    Example,
    OutputContract,
    TaskSpec,
    TooManyErrors,
    accept,
    ece_from_confidences,
    evaluate_prompt,
    expected_calibration_error,
)

LABELS = ("negative", "positive")
TASK = TaskSpec("toy-sentiment", labels=LABELS, description="binary sentiment of short reviews")
EXAMPLES = [
    Example(
        f"review {i}: "
        + ("good" if i % 3 else "bad")
        + (" but" if i % 5 == 0 else "")
        + (" meh" if i % 4 == 1 else ""),
        "positive" if i % 3 else "negative",
        id=str(i),
    )
    for i in range(30)
]


@dataclass
class Scores:
    probs: dict
    prompt_tokens: int = 7
    cached: bool = False


@dataclass
class Reply:
    text: str
    cost_usd: float | None = None


def rule_probability(prompt: str, text: str) -> float:
    """P(positive) of a scripted scorer whose behaviour depends on the prompt.

    A "sharp" prompt is always 99% sure and misled by "but" (6 of 30 wrong: accuracy .8, ECE .19);
    any other prompt is 75% sure and misled by "meh" (8 of 30 wrong: accuracy .733, ECE .017).
    """
    says_positive = "good" in text
    if "sharp" in prompt:
        return 0.99 if says_positive != ("but" in text) else 0.01
    return 0.75 if says_positive != ("meh" in text) else 0.25


class RuleLabelScorer:
    """A LabelScorer (and ChatLLM) following ``rule_probability``; tracks concurrency and messages."""

    def __init__(self, latency: float = 0.002, fail_on: frozenset[str] = frozenset()):
        self.latency = latency
        self.fail_on = fail_on
        self.in_flight = 0
        self.max_in_flight = 0
        self.messages: list = []

    async def _enter(self, messages):
        self.messages.append(messages)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        if any(token in messages[-1]["content"] for token in self.fail_on):
            raise ConnectionError("scripted outage")
        return messages[0]["content"], messages[-1]["content"]

    async def score_labels(self, messages, labels):
        prompt, text = await self._enter(messages)
        p = rule_probability(prompt, text)
        return Scores({"negative": 1 - p, "positive": p})

    async def chat(self, messages, *, temperature=0.0, max_tokens=256):
        prompt, text = await self._enter(messages)
        p = rule_probability(prompt, text)
        label = "positive" if p >= 0.5 else "negative"
        if "review 7:" in text:
            return Reply("I cannot decide.", cost_usd=0.001)  # breaks the output contract
        return Reply(f"Answer: {label}\nConfidence: {max(p, 1 - p):.2f}", cost_usd=0.001)


def expected_probs(prompt: str) -> np.ndarray:
    p = np.array([rule_probability(prompt, e.input) for e in EXAMPLES])
    return np.stack([1 - p, p], axis=1)


GOLD = np.array([LABELS.index(e.target) for e in EXAMPLES])


async def test_label_scoring_mode_computes_every_metric_from_probabilities():
    scorer = RuleLabelScorer()
    usage = []
    report = await evaluate_prompt("careful prompt", EXAMPLES, TASK, scorer, on_usage=usage.append)
    probs = expected_probs("careful prompt")
    assert report.scoring == "label_scores" and report.calibration_source == "label_scores"
    assert report.scores["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == GOLD))
    assert report.scores["ece"] == pytest.approx(expected_calibration_error(probs, GOLD))
    assert "instruction_following" not in report.scores  # no generated text to check
    assert set(report.scores) == {
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "ece",
        "brier",
        "auroc",
        "auprc_pos",
        "auprc_neg",
    }
    assert len(usage) == 30 and report.scorer_usage.prompt_tokens == 210 and report.judge_usage.calls == 0
    assert [r.index for r in report.examples] == list(range(30))


async def test_concurrency_limit_is_respected_and_used():
    scorer = RuleLabelScorer(latency=0.01)
    await evaluate_prompt("careful prompt", EXAMPLES, TASK, scorer, config=EvalConfig(concurrency=4))
    assert scorer.max_in_flight == 4


async def test_generate_mode_with_verbalised_confidence_and_contract():
    scorer = RuleLabelScorer()
    config = EvalConfig(scoring="generate", verbalized_confidence=True)
    report = await evaluate_prompt("sharp prompt", EXAMPLES, TASK, scorer, config=config)
    assert report.scoring == "generate" and report.calibration_source == "verbalized"
    assert report.scores["instruction_following"] == pytest.approx(29 / 30)
    broken = report.examples[7]
    assert broken.prediction is None and broken.violations == ("unparsable",) and not broken.correct
    # ECE from the stated confidences; the undecided example counts as 1/k confidence, wrong.
    conf = [r.confidence for r in report.examples]
    assert conf[7] == 0.5 and conf[0] == pytest.approx(0.99)
    assert report.scores["ece"] == pytest.approx(
        ece_from_confidences(conf, [r.correct for r in report.examples])
    )
    assert report.scorer_usage.cost_usd == pytest.approx(0.03)


async def test_scorer_failures_are_counted_scored_wrong_and_left_out_of_calibration():
    scorer = RuleLabelScorer(fail_on=frozenset({"review 4:", "review 8:"}))
    report = await evaluate_prompt("careful prompt", EXAMPLES, TASK, scorer, config=EvalConfig(max_errors=3))
    assert report.failures == {"scorer_error": 2}
    assert report.examples[4].failed and "ConnectionError: scripted outage" in report.examples[4].error
    probs = expected_probs("careful prompt")
    correct = probs.argmax(1) == GOLD
    correct[[4, 8]] = False
    assert report.scores["accuracy"] == pytest.approx(correct.mean())
    kept = [i for i in range(30) if i not in (4, 8)]
    assert report.scores["ece"] == pytest.approx(expected_calibration_error(probs[kept], GOLD[kept]))
    with pytest.raises(TooManyErrors, match="scorer_error=2"):
        await evaluate_prompt("careful prompt", EXAMPLES, TASK, scorer, config=EvalConfig(max_errors=2))
    with pytest.raises(ConnectionError):  # a listed type propagates (e.g. the gateway's BudgetExceeded)
        await evaluate_prompt("x", EXAMPLES, TASK, scorer, config=EvalConfig(reraise=(ConnectionError,)))


async def test_message_renderer_is_injected():
    scorer = RuleLabelScorer()

    def render(prompt, example):
        return [{"role": "user", "content": f"{prompt}\n\nReview: {example.input}"}]

    await evaluate_prompt("careful prompt", EXAMPLES[:3], TASK, scorer, render_messages=render)
    assert scorer.messages[0] == [
        {"role": "user", "content": f"careful prompt\n\nReview: {EXAMPLES[0].input}"}
    ]


class FreeFormScorer:
    async def chat(self, messages, *, temperature=0.0, max_tokens=256):
        question = messages[-1]["content"]
        return Reply(
            "Paris\nIt is the capital." if "France" in question else "I do not know, sorry about that"
        )


async def test_free_form_task_uses_exact_match_and_contract():
    task = TaskSpec("capitals", contract=OutputContract(max_words=5))
    examples = [
        Example("Capital of France?", ("Paris", "paris, france")),
        Example("Capital of Peru?", "Lima"),
    ]
    report = await evaluate_prompt("Answer briefly.", examples, task, FreeFormScorer())
    assert report.scores == {"exact_match": 0.5, "instruction_following": 0.5}
    assert report.examples[0].correct and report.examples[1].violations == ("too_long_words",)


async def test_mode_and_metric_validation():
    chat_only = FreeFormScorer()
    with pytest.raises(ValueError, match="score_labels"):
        await evaluate_prompt("p", EXAMPLES, TASK, chat_only, config=EvalConfig(scoring="label_scores"))
    report = await evaluate_prompt("careful prompt", EXAMPLES[:4], TASK, chat_only)  # auto -> generate
    assert report.scoring == "generate" and "ece" not in report.scores
    no_logprobs = RuleLabelScorer()
    no_logprobs.supports_label_scoring = False
    assert (await evaluate_prompt("careful prompt", EXAMPLES[:4], TASK, no_logprobs)).scoring == "generate"
    strict_task = TaskSpec("t", labels=LABELS, metrics=("accuracy", "ece"))
    with pytest.raises(ValueError, match=r"metrics \['ece'\] cannot be computed"):
        await evaluate_prompt("p", EXAMPLES, strict_task, chat_only)
    with pytest.raises(ValueError, match=r"example 1 \(id='b'\) has target 'meh'"):
        await evaluate_prompt("p", [Example("x", "positive", "a"), Example("y", "meh", "b")], TASK, chat_only)
    with pytest.raises(ValueError, match="no judge_llm"):
        await evaluate_prompt("p", EXAMPLES, TASK, chat_only, config=EvalConfig(judges=("clarity",)))
    with pytest.raises(ValueError, match="unknown metrics"):
        TaskSpec("t", labels=LABELS, metrics=("acuracy",))


class FixedJudge:
    def __init__(self):
        self.calls = 0

    async def chat(self, messages, *, temperature=0.0, max_tokens=256):
        self.calls += 1
        return Reply('{"score": 4, "reason": "fine"}', cost_usd=0.01)


async def test_output_judges_on_a_seeded_sample_and_judge_cost():
    judge = FixedJudge()
    config = EvalConfig(
        scoring="generate", judges=("coherence", "fluency", "clarity"), judge_examples=5, seed=1
    )
    report = await evaluate_prompt(
        "careful prompt", EXAMPLES, TASK, RuleLabelScorer(), judge_llm=judge, config=config
    )
    assert judge.calls == 5 * 2 + 1
    assert report.judge_usage.calls == 11 and report.judge_usage.cost_usd == pytest.approx(0.11)
    judged = [r.index for r in report.examples if r.judge_scores]
    assert len(judged) == 5
    again = await evaluate_prompt(
        "careful prompt", EXAMPLES, TASK, RuleLabelScorer(), judge_llm=judge, config=config
    )
    assert [r.index for r in again.examples if r.judge_scores] == judged  # same seed, same sample
    assert report.scores["judge_coherence"] == 4.0 and report.normalized["judge_clarity"] == 0.75
    with pytest.raises(ValueError, match="judges the prompt once"):
        report.confidence_interval("judge_clarity")


async def test_two_prompts_accuracy_vs_calibration_and_acceptance():
    """The README scenario: one prompt more accurate but worse calibrated."""
    sharp = await evaluate_prompt("sharp prompt", EXAMPLES, TASK, RuleLabelScorer())
    careful = await evaluate_prompt("careful prompt", EXAMPLES, TASK, RuleLabelScorer())
    more_accurate, better_calibrated = sharp, careful
    assert more_accurate.scores["accuracy"] == pytest.approx(0.8)
    assert better_calibrated.scores["accuracy"] == pytest.approx(22 / 30)
    assert more_accurate.scores["ece"] == pytest.approx(0.19)
    assert better_calibrated.scores["ece"] == pytest.approx(0.75 - 22 / 30)
    weights = {"accuracy": 1.0, "ece": 0.2}
    weighted = AcceptancePolicy(kind="weighted", weights=weights)
    pareto = AcceptancePolicy(kind="pareto", weights=weights)
    incumbent, candidate = more_accurate.normalized, better_calibrated.normalized
    assert not accept(candidate, [incumbent], weighted).accepted
    assert accept(candidate, [incumbent], pareto).accepted
    diff = more_accurate.compare(better_calibrated, "accuracy", n_resamples=300)
    assert diff.difference.estimate == pytest.approx(
        more_accurate.scores["accuracy"] - better_calibrated.scores["accuracy"]
    )
    interval = better_calibrated.confidence_interval("ece", n_resamples=200)
    assert interval.low <= better_calibrated.scores["ece"] <= interval.high
    json.dumps(more_accurate.to_dict(), allow_nan=False)  # checkpoint-safe
    assert "accuracy" in more_accurate.table() and "lower" in more_accurate.table()
