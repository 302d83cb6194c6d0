"""Batch evaluation of one prompt: run every example through the injected scorer LLM, concurrently,
then compute every dimension, judge what is asked, count failures and report usage.

Scoring modes: ``label_scores`` asks a ``LabelScorer`` for label probabilities (calibration for free,
no generated text, so no instruction-following rate); ``generate`` asks a ``ChatLLM`` for text, extracts
the answer, checks the output contract and, with ``verbalized_confidence``, reads a stated confidence.
``auto`` picks label scoring when the task has labels and the scorer has ``score_labels`` (unless the
scorer has ``supports_label_scoring = False``).

With label scoring, ``calibration`` corrects the label probabilities before arg-max and before every
metric (``label_calibration``): ``batch`` divides by each label's mean over the evaluated examples,
``content_free`` by the prompt's distribution on content-free inputs (``TaskSpec.content_free_inputs``,
scored once per evaluation alongside the examples).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from evaluators.calibration import BinningStrategy
from evaluators.confidence import confidence_to_probs, parse_verbalized_answer
from evaluators.errors import FailureCounter, TooManyErrors
from evaluators.instruction_following import check_output
from evaluators.judges import DEFAULT_JUDGES, JudgeSpec, JudgeVerdict, LLMJudge
from evaluators.label_calibration import (
    CALIBRATION_METHODS,
    CalibrationMethod,
    batch_calibrate,
    content_free_calibrate,
)
from evaluators.metrics import exact_match
from evaluators.protocol import ChatLLM, LabelScorer
from evaluators.report import EvaluationReport
from evaluators.scoring import ExampleResult, dimension_for, score_dimensions
from evaluators.task import Example, MessageRenderer, TaskSpec, default_messages
from evaluators.usage import UsageCallback, UsageRecord, UsageTotals, usage_from_completion

__all__ = ["EvalConfig", "evaluate_prompt"]

_PROB_TOLERANCE = 1e-4


@dataclass(frozen=True)
class EvalConfig:
    """How to evaluate (internal config; the orchestrator maps its campaign config onto it).

    Attributes:
        scoring: ``"auto"``, ``"label_scores"`` or ``"generate"`` (see the module docstring).
        calibration: ``"none"``, ``"batch"`` or ``"content_free"``: how label probabilities are
            corrected before arg-max and metrics (label scoring only; see the module docstring).
        verbalized_confidence: in generate mode, read ``Confidence: x`` from outputs for calibration.
        concurrency: scorer calls in flight at once (and, separately, judge calls).
        max_errors: failures that stop the evaluation with ``TooManyErrors``; ``None`` never stops.
        temperature: scorer sampling temperature.
        max_tokens: scorer reply length limit.
        n_bins: ECE bins.
        binning: ECE binning strategy.
        judges: judged dimensions, by name in ``DEFAULT_JUDGES`` or as a ``JudgeSpec``.
        judge_examples: judge the outputs of at most this many examples (a seeded sample); ``None`` = all.
        judge_temperature: judge sampling temperature.
        judge_max_tokens: judge reply length limit.
        seed: seed of the judged-example sample.
        reraise: exception types that must propagate instead of counting as failures (e.g. the
            orchestrator's ``BudgetExceeded`` and ``Fatal``).
    """

    scoring: Literal["auto", "label_scores", "generate"] = "auto"
    calibration: CalibrationMethod = "none"
    verbalized_confidence: bool = False
    concurrency: int = 8
    max_errors: int | None = 10
    temperature: float = 0.0
    max_tokens: int = 64
    n_bins: int = 10
    binning: BinningStrategy = "uniform"
    judges: tuple[str | JudgeSpec, ...] = ()
    judge_examples: int | None = None
    judge_temperature: float = 0.0
    judge_max_tokens: int = 200
    seed: int = 0
    reraise: tuple[type[BaseException], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.scoring not in ("auto", "label_scores", "generate"):
            raise ValueError(f"EvalConfig.scoring: unknown mode {self.scoring!r}")
        if self.calibration not in CALIBRATION_METHODS:
            raise ValueError(
                f"EvalConfig.calibration: unknown method {self.calibration!r}; known: {CALIBRATION_METHODS}"
            )
        if self.concurrency < 1:
            raise ValueError(f"EvalConfig.concurrency must be >= 1, got {self.concurrency}")
        if self.max_errors is not None and self.max_errors < 1:
            raise ValueError(f"EvalConfig.max_errors must be >= 1 or None, got {self.max_errors}")
        if self.judge_examples is not None and self.judge_examples < 0:
            raise ValueError(f"EvalConfig.judge_examples must be >= 0, got {self.judge_examples}")
        unknown = [j for j in self.judges if isinstance(j, str) and j not in DEFAULT_JUDGES]
        if unknown:
            raise ValueError(f"EvalConfig.judges: unknown {unknown}; shipped: {sorted(DEFAULT_JUDGES)}")

    def judge_specs(self) -> list[JudgeSpec]:
        return [DEFAULT_JUDGES[j] if isinstance(j, str) else j for j in self.judges]


class _Run:
    """State of one evaluation: the LLMs, semaphores, failure counter and usage records."""

    def __init__(
        self,
        prompt: str,
        examples: Sequence[Example],
        task: TaskSpec,
        scorer: ChatLLM | LabelScorer,
        judge_llm: ChatLLM | None,
        config: EvalConfig,
        render: MessageRenderer,
        on_usage: UsageCallback | None,
    ):
        self.prompt, self.examples, self.task, self.config = prompt, examples, task, config
        self.scorer, self.render = scorer, render
        self.failures = FailureCounter(config.max_errors)
        self.usage: list[UsageRecord] = []
        self.on_usage = on_usage
        self.scorer_slots = asyncio.Semaphore(config.concurrency)
        self.judge_slots = asyncio.Semaphore(config.concurrency)
        self.mode = self._mode()
        self.judges = [
            LLMJudge(
                judge_llm,
                spec,
                temperature=config.judge_temperature,
                max_tokens=config.judge_max_tokens,
                on_usage=self._record,
                reraise=config.reraise,
            )
            for spec in config.judge_specs()
        ]
        if self.judges and judge_llm is None:
            raise ValueError("EvalConfig.judges is set but no judge_llm was given")
        if self.mode == "label_scores" and any(j.spec.subject == "output" for j in self.judges):
            raise ValueError("output judges need generated outputs; use scoring='generate'")
        n_judged = (
            len(examples) if config.judge_examples is None else min(config.judge_examples, len(examples))
        )
        self.judged = frozenset(random.Random(config.seed).sample(range(len(examples)), n_judged))

    def _mode(self) -> str:
        wanted = self.config.scoring
        # A gateway may have score_labels() but a backend without log-probs behind it; it says so here.
        can_score = (
            self.task.labels is not None
            and isinstance(self.scorer, LabelScorer)
            and getattr(self.scorer, "supports_label_scoring", True) is not False
        )
        if wanted == "label_scores" and not can_score:
            raise ValueError(
                "scoring='label_scores' needs a task with labels and a scorer with score_labels()"
            )
        if wanted == "generate" and not isinstance(self.scorer, ChatLLM):
            raise ValueError("scoring='generate' needs a scorer with chat()")
        if wanted == "auto":
            wanted = "label_scores" if can_score else "generate"
        if wanted == "generate" and not isinstance(self.scorer, ChatLLM):
            raise ValueError("the scorer has neither usable score_labels() nor chat()")
        return wanted

    def _record(self, record: UsageRecord) -> None:
        self.usage.append(record)
        if self.on_usage is not None:
            self.on_usage(record)

    async def _call_scorer(
        self, messages: Sequence[Mapping[str, str]]
    ) -> tuple[str | None, tuple[float, ...] | None]:
        async with self.scorer_slots:
            if self.mode == "label_scores":
                result = await self.scorer.score_labels(messages, list(self.task.labels))
                self._record(usage_from_completion(result, "scorer", None))
                return None, self._label_probs(result.probs)
            completion = await self.scorer.chat(
                messages, temperature=self.config.temperature, max_tokens=self.config.max_tokens
            )
            self._record(usage_from_completion(completion, "scorer", None))
            return completion.text, None

    def _label_probs(self, probs: Mapping[str, float]) -> tuple[float, ...]:
        missing = [label for label in self.task.labels if label not in probs]
        if missing:
            raise ValueError(f"score_labels returned no probability for labels {missing}")
        values = [float(probs[label]) for label in self.task.labels]
        if any(v < 0 for v in values) or abs(sum(values) - 1.0) > _PROB_TOLERANCE:
            raise ValueError(f"score_labels probabilities must be >= 0 and sum to 1, got {values}")
        total = sum(values)
        return tuple(v / total for v in values)  # remove rounding drift so validation downstream passes

    async def content_free_probs(self) -> list[tuple[float, ...]]:
        """The prompt's label distribution on each content-free input (only for ``content_free``)."""
        if self.mode != "label_scores" or self.config.calibration != "content_free":
            return []
        labels = self.task.labels
        calls = [
            self._call_scorer(self.render(self.prompt, Example(text, labels[0])))
            for text in self.task.content_free()
        ]
        return [probs for _, probs in await asyncio.gather(*calls)]

    def calibrate(
        self, results: Sequence[ExampleResult], content_free: Sequence[tuple[float, ...]]
    ) -> list[ExampleResult]:
        """Recompute label-scored results from calibrated probabilities (failed ones stay as they are)."""
        method = self.config.calibration
        kept = [r for r in results if not r.failed and r.probs is not None]
        if self.mode != "label_scores" or method == "none" or not kept:
            return list(results)
        raw = [r.probs for r in kept]
        fixed = batch_calibrate(raw) if method == "batch" else content_free_calibrate(raw, content_free)
        by_index = {
            r.index: self._from_probs(r.index, self.examples[r.index], tuple(float(p) for p in row))
            for r, row in zip(kept, fixed, strict=True)
        }
        return [by_index.get(r.index, r) for r in results]

    async def score_example(self, index: int) -> ExampleResult:
        example = self.examples[index]
        try:
            text, probs = await self._call_scorer(self.render(self.prompt, example))
        except self.config.reraise:
            raise
        except Exception as exc:  # counted, scored as failure; never mistaken for a bad prompt silently
            detail = f"example {index}: scorer failed: {type(exc).__name__}: {exc}"
            self.failures.record("scorer_error", detail)
            return ExampleResult(index, None, None, None, None, False, None, error=detail)
        if text is None:
            return self._from_probs(index, example, probs)
        result = self._from_text(index, example, text)
        if index in self.judged and any(j.spec.subject == "output" for j in self.judges):
            scores = await self._judge_output(example, text)
            result = replace(result, judge_scores=scores)
        return result

    def _from_probs(self, index: int, example: Example, probs: tuple[float, ...]) -> ExampleResult:
        best = max(range(len(probs)), key=lambda i: (probs[i], -i))  # ties go to the lowest index
        prediction = self.task.labels[best]
        return ExampleResult(index, None, prediction, probs, probs[best], prediction == example.target, None)

    def _from_text(self, index: int, example: Example, text: str) -> ExampleResult:
        extractor = self.task.answer_extractor()
        check = check_output(text, self.task.output_contract(), extractor)
        probs = confidence = None
        if self.config.verbalized_confidence and self.task.labels is not None:
            parsed = parse_verbalized_answer(text)
            prediction = extractor(parsed.answer) or extractor(text)
            labels = self.task.labels
            predicted_index = labels.index(prediction) if prediction in labels else None
            stated = parsed.confidence if predicted_index is not None else None
            probs = tuple(confidence_to_probs(predicted_index, stated, len(labels)).tolist())
            confidence = stated if stated is not None else 1.0 / len(labels)
        else:
            prediction = extractor(text)
        if self.task.labels is not None:
            correct = prediction is not None and prediction == example.target
        else:
            correct = exact_match([prediction], [example.target]) == 1.0
        return ExampleResult(index, text, prediction, probs, confidence, correct, check.ok, check.violations)

    async def _judge_output(self, example: Example, text: str) -> dict[str, float]:
        data = {
            "task_input": example.input,
            "candidate_output": text,
            "task_description": self.task.description,
        }
        judges = [j for j in self.judges if j.spec.subject == "output"]
        verdicts = await asyncio.gather(*(self._judge(j, data) for j in judges))
        return {v.dimension: v.score for v in verdicts}

    async def _judge(self, judge: LLMJudge, data: dict[str, str]) -> JudgeVerdict:
        async with self.judge_slots:
            verdict = await judge.judge(data)
        if verdict.failed:
            self.failures.record(
                verdict.failure_kind or "judge_error", f"{verdict.dimension}: {verdict.reason}"
            )
        return verdict

    async def judge_prompt(self) -> dict[str, JudgeVerdict]:
        data = {
            "candidate_prompt": self.prompt,
            "task_description": self.task.description or "(no description given)",
        }
        judges = [j for j in self.judges if j.spec.subject == "prompt"]
        verdicts = await asyncio.gather(*(self._judge(j, data) for j in judges))
        return {v.dimension: v for v in verdicts}


async def _run_all(coroutines: Sequence) -> list:
    """Run coroutines concurrently and raise the first exception.

    ``TooManyErrors`` (and cancellation) cancel the rest at once. Any other error, such as a budget
    that stops the run, lets the calls already in flight finish first: they are paid for, and the
    caller's cache keeps their answers for a resumed run.
    """
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except (TooManyErrors, asyncio.CancelledError):
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    except BaseException:
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def evaluate_prompt(
    prompt: str,
    examples: Sequence[Example],
    task: TaskSpec,
    scorer_llm: ChatLLM | LabelScorer,
    *,
    judge_llm: ChatLLM | None = None,
    config: EvalConfig | None = None,
    render_messages: MessageRenderer = default_messages,
    on_usage: UsageCallback | None = None,
) -> EvaluationReport:
    """Evaluate one prompt on a set of examples.

    Args:
        prompt: the candidate prompt.
        examples: the examples (a dev minibatch or a full split).
        task: labels or free-form, metrics, output contract, extractor.
        scorer_llm: runs the prompt (``ChatLLM`` and/or ``LabelScorer``).
        judge_llm: answers the judges; required when ``config.judges`` is set.
        config: how to evaluate; defaults to ``EvalConfig()``.
        render_messages: ``(prompt, example) -> messages``; default system = prompt, user = input.
        on_usage: ledger callback, called once per scorer or judge call.

    Returns:
        The report with every dimension, per-example results, failures and usage.

    Raises:
        TooManyErrors: ``config.max_errors`` failures were reached (remaining calls are cancelled).
        ValueError: the task, examples, config or LLMs do not fit together.
    """
    config = config or EvalConfig()
    task.check_examples(examples)
    run = _Run(prompt, examples, task, scorer_llm, judge_llm, config, render_messages, on_usage)
    calibration = (
        "label_scores"
        if run.mode == "label_scores"
        else ("verbalized" if config.verbalized_confidence and task.labels is not None else None)
    )
    metrics = task.resolve_metrics(
        has_probabilities=calibration is not None, has_outputs=run.mode == "generate"
    )
    prompt_verdicts, content_free, *results = await _run_all(
        [run.judge_prompt(), run.content_free_probs(), *map(run.score_example, range(len(examples)))]
    )
    results = run.calibrate(results, content_free)
    output_judges = tuple(j.dimension.name for j in run.judges if j.spec.subject == "output")
    targets = tuple(e.target for e in examples)
    scores = score_dimensions(
        results, targets, task, metrics, output_judges, n_bins=config.n_bins, binning=config.binning
    )
    scores.update({name: verdict.score for name, verdict in prompt_verdicts.items()})
    dimensions = {name: dimension_for(name, task) for name in metrics}
    dimensions.update({j.dimension.name: j.dimension for j in run.judges})
    return EvaluationReport(
        prompt=prompt,
        task=task,
        targets=targets,
        examples=tuple(results),
        scores=scores,
        dimensions=dimensions,
        metrics=metrics,
        output_judges=output_judges,
        prompt_verdicts=prompt_verdicts,
        failures=dict(run.failures.by_kind),
        scoring=run.mode,
        calibration_source=calibration,
        label_calibration=config.calibration if run.mode == "label_scores" else "none",
        scorer_usage=UsageTotals.of(r for r in run.usage if r.role == "scorer"),
        judge_usage=UsageTotals.of(r for r in run.usage if r.role == "judge"),
        n_bins=config.n_bins,
        binning=config.binning,
    )
