"""Scores candidate prompts on task splits: the scorer LLM plus the objective evaluator.

Splits are drawn once per run with the campaign seed: ``train`` (exemplars for the meta-prompt),
``dev`` (at most ``tasks.dev_size`` examples; its first ``search.minibatch_size`` form the fixed
minibatch every candidate of a stage is scored on, so candidates compare fairly; the rest form
``confirm``, where finalists are re-scored on examples that played no part in choosing them), ``test``
(at most ``tasks.test_size``, scored once at the end).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from evaluators import INSTRUCTION_TURNS, EvalConfig, dominant_answer, evaluate_prompt
from evaluators.dimensions import STANDARD_DIMENSIONS
from evaluators.errors import TooManyErrors
from orchestrator.backends.base import BudgetExceeded, Fatal, Unsupported
from orchestrator.clip import clip
from orchestrator.config import Campaign
from orchestrator.errors import StoreError
from orchestrator.search.systematic import (
    ErrorTally,
    check_baseline,
    check_baseline_answers,
    fatal_on_baseline,
)
from orchestrator.tasks import Task
from orchestrator.tasks.evaluation import to_eval_examples, to_eval_spec

__all__ = ["TaskPromptScorer"]

_CI_DIMENSIONS = ("accuracy", "balanced_accuracy", "macro_f1", "exact_match", "ece")
_MAX_MISTAKES = 8
_MAX_OUTPUT_CHARS = 300


def _answer_shown(result: Any) -> str:
    answer = result.output if result.output is not None else (result.prediction or result.error)
    return clip("(no answer)" if answer is None else answer, _MAX_OUTPUT_CHARS, collapse=False)


class TaskPromptScorer:
    """Implements ``orchestrator.search.context.PromptScorer`` over loaded tasks.

    Args:
        tasks: task name -> task.
        campaign: the campaign (sizes, seed, scorer settings, judged dimensions).
        scorer_llm: the scorer gateway (``chat`` and, for label sets, ``score_labels``).
        judge_llm: the judge gateway, or None.
        scoring_mode: how labelled tasks are scored (``orchestrator.scoring.decide_scoring``);
            free-form tasks are always generated.
    """

    def __init__(
        self,
        tasks: Mapping[str, Task],
        campaign: Campaign,
        scorer_llm: Any,
        judge_llm: Any = None,
        scoring_mode: str = "auto",
    ):
        self.tasks = dict(tasks)
        self.scoring_mode = scoring_mode
        self.campaign = campaign
        self.scorer_llm = scorer_llm
        self.judge_llm = judge_llm
        seed = campaign.run.seed
        self._splits = {}
        for name, task in self.tasks.items():
            splits = task.splits(seed)
            dev = splits.dev[: campaign.tasks.dev_size]
            self._splits[name] = {
                "train": splits.train,
                "dev": dev,
                "minibatch": dev[: campaign.search.minibatch_size],
                "confirm": dev[campaign.search.minibatch_size :],
                "test": splits.test[: campaign.tasks.test_size],
            }
        scorer = campaign.models.scorer
        self._config = EvalConfig(
            calibration=campaign.scoring.calibration,
            concurrency=scorer.effective_concurrency
            * 4,  # the gateway enforces the real limit and batches locally
            temperature=scorer.temperature,
            max_tokens=scorer.max_tokens,
            judges=tuple(campaign.objective.judge_dimensions),
            judge_examples=4,
            seed=seed,
            reraise=(BudgetExceeded, Fatal, StoreError),
        )
        self._known: dict[tuple[str, str, str, int | tuple[int, ...]], dict[str, Any]] = {}

    def split(self, task: str, split: str) -> tuple:
        return self._splits[task][split]

    async def score(
        self,
        prompt: str,
        task: str,
        split: str,
        limit: int | None = None,
        *,
        baseline: bool = False,
        indices: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Evaluate ``prompt`` on ``split`` of ``task``; JSON-serialisable (``nan`` kept as float nan).

        ``indices`` picks examples of the split instead of its first ``limit`` (a screen); the
        result's example indices (``wrong``, ``mistakes``) are then positions in the split too, and
        ``indices`` is kept in it.

        A ``baseline`` prompt is evaluated on every example, and a systematic failure on it (see
        ``orchestrator.search.systematic``) raises ``SystematicFailure`` instead of scoring it.

        A prompt already evaluated on the same examples in this process is not evaluated again (the
        minibatch is a prefix of the dev split, so a promoted prompt, or a finalist whose dev split is
        its minibatch, reuses its earlier result). The response cache would answer every call anyway;
        this skips the evaluation's own work too. Only evaluations without a failed call are kept.
        """
        rows = self._splits[task][split]
        examples = rows[:limit] if indices is None else tuple(rows[i] for i in indices)
        span: int | tuple[int, ...] = len(examples) if indices is None else tuple(indices)
        key = (prompt, task, "dev" if split == "minibatch" else split, span)
        known = self._known.get(key)
        if known is not None:
            return known
        result = await self._evaluate(prompt, task, split, examples, baseline=baseline)
        if indices is not None:
            result = _at_positions(result, list(indices))
        if result["scoring"] != "failed" and not result["failures"]:
            self._known[key] = result
        return result

    async def _evaluate(
        self, prompt: str, task: str, split: str, examples: tuple, *, baseline: bool = False
    ) -> dict[str, Any]:
        spec = to_eval_spec(self.tasks[task])
        config = dataclasses.replace(
            self._config, scoring=self.scoring_mode if spec.labels is not None else "generate"
        )
        scorer_llm = self.scorer_llm
        if baseline:
            # Every example, so that "most examples" is measured, not cut short at max_errors.
            config = dataclasses.replace(config, max_errors=None, reraise=(*config.reraise, Unsupported))
            scorer_llm = ErrorTally(self.scorer_llm)
        try:
            report = await evaluate_prompt(
                prompt,
                to_eval_examples(self.tasks[task], examples),
                spec,
                scorer_llm,
                judge_llm=self.judge_llm,
                config=config,
                render_messages=INSTRUCTION_TURNS[self.campaign.scoring.instruction_turn],
            )
        except (Fatal, Unsupported) as exc:
            if baseline:
                raise fatal_on_baseline(task, exc) from exc
            raise
        except TooManyErrors as exc:
            # One prompt that makes the scorer fail over and over is a bad prompt, not a failed run.
            return self._failed(len(examples), exc)
        if baseline:
            check_baseline(task, len(examples), scorer_llm)
            if spec.labels is not None:
                check_baseline_answers(
                    task,
                    list(spec.labels),
                    [r.prediction for r in report.examples if r.error is None],
                    [r.output for r in report.examples],
                )
        result: dict[str, Any] = {
            "scores": {k: float(v) for k, v in report.scores.items()},
            "normalized": {k: float(v) for k, v in report.normalized.items()},
            "wrong": [r.index for r in report.examples if not r.correct],
            # What the scorer actually answered where it was wrong, for reflective proposals.
            "mistakes": [
                {
                    "index": r.index,
                    "output": _answer_shown(r),
                }
                for r in report.examples
                if not r.correct
            ][:_MAX_MISTAKES],
            "n": len(examples),
            "failures": report.n_failures,
            "scoring": report.scoring,
        }
        if spec.labels is not None:
            # A prompt that answers one label for (nearly) every example is flagged wherever it is shown.
            dominant = dominant_answer([r.prediction for r in report.examples])
            result["degenerate"] = dominant.text if dominant is not None else None
        if split == "test":
            result["correct"] = [bool(r.correct) for r in report.examples]
            result["intervals"] = _intervals(report, self.campaign.run.seed)
            if spec.labels is not None:
                # Kept so contenders can be compared pairwise, and trivial baselines computed, later.
                result["predictions"] = [r.prediction for r in report.examples]
                result["targets"] = list(report.targets)
                result["labels"] = list(spec.labels)
        return result

    def _failed(self, n: int, exc: TooManyErrors) -> dict[str, Any]:
        """A prompt whose evaluation hit ``max_errors``: every metric at its failure score."""
        scores, normalized = {}, {}
        for name in {"accuracy", *self.campaign.objective.weights}:
            dim = STANDARD_DIMENSIONS.get(name)
            value = dim.failure_score if dim is not None and dim.failure_score is not None else math.nan
            scores[name] = float(value)
            normalized[name] = math.nan if math.isnan(value) else float(dim.normalize(value))
        return {
            "scores": scores,
            "normalized": normalized,
            "wrong": list(range(n)),
            "n": n,
            "failures": exc.count,
            "scoring": "failed",
            "error": str(exc),
        }

    def exemplars(self, task: str, k: int, wrong: Sequence[int], seed: int) -> list[tuple[str, str]]:
        """Up to ``k`` (input, answer) pairs: half from the minibatch examples the best prompt got wrong,
        the rest sampled from the train split."""
        if k <= 0:
            return []
        data = self.tasks[task]
        minibatch = self._splits[task]["minibatch"]
        rng = random.Random(seed)
        picked = [minibatch[i] for i in sorted(rng.sample(list(wrong), min(len(wrong), (k + 1) // 2)))]
        train = list(self._splits[task]["train"])
        rng.shuffle(train)
        picked += train[: k - len(picked)]
        return [(data.render_input(e), e.target) for e in picked]

    def mistakes(self, task: str, result: dict[str, Any], k: int) -> list[tuple[str, str, str]]:
        """Up to ``k`` (input, actual output, expected answer) triples from a minibatch result."""
        data, minibatch = self.tasks[task], self._splits[task]["minibatch"]
        rows = [m for m in result.get("mistakes", []) if m["index"] < len(minibatch)][:k]
        return [
            (data.render_input(minibatch[m["index"]]), m["output"], minibatch[m["index"]].target)
            for m in rows
        ]

    def examples(self, task: str, split: str, indices: Sequence[int]) -> list[tuple[str, str]]:
        """(input, correct answer) of the given examples of a split."""
        data, rows = self.tasks[task], self._splits[task][split]
        return [(data.render_input(rows[i]), rows[i].target) for i in indices if i < len(rows)]

    def knowledge(self, task: str) -> tuple[tuple[str, ...], str]:
        data = self.tasks[task]
        return tuple(data.labels or ()), data.description

    def describe(self, task: str) -> tuple[str, str]:
        data = self.tasks[task]
        description = data.description or f"The task {data.name!r}."
        if data.labels:
            answer = "answer with exactly one of: " + ", ".join(data.labels)
        else:
            answer = "answer briefly with the answer only"
        return description, answer


def _at_positions(result: dict[str, Any], indices: list[int]) -> dict[str, Any]:
    """A result over picked examples, its example indices mapped back to positions in the split."""
    mistakes = [{**m, "index": indices[m["index"]]} for m in result.get("mistakes", [])]
    return {
        **result,
        "wrong": [indices[i] for i in result["wrong"]],
        "mistakes": mistakes,
        "indices": indices,
    }


def _intervals(report: Any, seed: int) -> dict[str, list[float]]:
    out = {}
    for name in _CI_DIMENSIONS:
        value = report.scores.get(name)
        if value is None or math.isnan(value):
            continue
        ci = report.confidence_interval(name, n_resamples=1000, seed=seed)
        out[name] = [float(ci.low), float(ci.high)]
    return out
