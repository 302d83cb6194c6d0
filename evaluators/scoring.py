"""From per-example results to dimension values, on any subset of examples (for the bootstrap).

Failed examples (the scorer LLM raised) count with their dimension's ``failure_score`` where it has
one (accuracy, macro-F1, exact match, instruction following: wrong / broken). Calibration dimensions
have no failure score: a failed call carries no probability, so those examples are left out of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from evaluators.calibration import BinningStrategy, brier_score, ece_from_confidences
from evaluators.dimensions import STANDARD_DIMENSIONS, Dimension
from evaluators.discrimination import auprc, auprc_negative, auroc
from evaluators.metrics import accuracy, balanced_accuracy, exact_match, macro_f1
from evaluators.task import CALIBRATION_METRICS, TaskSpec

__all__ = ["ExampleResult", "dimension_for", "score_dimensions"]


@dataclass(frozen=True)
class ExampleResult:
    """Everything the evaluator learnt about one example.

    Attributes:
        index: position in the evaluated examples.
        output: the generated text; ``None`` with label scoring or when the call failed.
        prediction: the extracted answer or arg-max label; ``None`` when unparsable or failed.
        probs: label distribution (label order of the task) when calibration is measured.
        confidence: top-label confidence used for ECE (arg-max probability or stated confidence).
        correct: the prediction equals the target (always ``False`` when failed).
        contract_ok: the output keeps the output contract; ``None`` without generated output.
        violations: contract violation codes.
        judge_scores: output-judge dimension -> score (failure score when the judge failed).
        error: why scoring the example failed, or ``None``.
    """

    index: int
    output: str | None
    prediction: str | None
    probs: tuple[float, ...] | None
    confidence: float | None
    correct: bool
    contract_ok: bool | None
    violations: tuple[str, ...] = ()
    judge_scores: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def dimension_for(name: str, task: TaskSpec) -> Dimension:
    """The ``Dimension`` of a metric on a task (the multiclass Brier score ranges over [0, 2])."""
    if name == "brier" and task.labels is not None and len(task.labels) > 2:
        return Dimension("brier", "min", 0.0, 2.0, None, "multiclass Brier score")
    return STANDARD_DIMENSIONS[name]


def _calibration(
    name: str,
    results: Sequence[ExampleResult],
    gold: Sequence[int],
    task: TaskSpec,
    n_bins: int,
    binning: str,
) -> float:
    kept = [(r, g) for r, g in zip(results, gold, strict=True) if not r.failed and r.probs is not None]
    if not kept:
        return math.nan
    if name == "ece":
        conf = [r.confidence for r, _ in kept]
        return ece_from_confidences(conf, [r.correct for r, _ in kept], n_bins=n_bins, strategy=binning)
    probs = np.array([r.probs for r, _ in kept], dtype=float)
    labels = np.array([g for _, g in kept])
    if name == "brier":
        return brier_score(probs, labels)
    positive = task.positive_index
    if name == "auroc":
        return auroc(probs, labels, positive=positive)
    if name == "auprc_pos":
        return auprc(probs, labels, positive=positive)
    return auprc_negative(probs, labels, positive=positive)


def score_dimensions(
    results: Sequence[ExampleResult],
    targets: Sequence[str | tuple[str, ...]],
    task: TaskSpec,
    metrics: Sequence[str],
    output_judges: Sequence[str] = (),
    *,
    n_bins: int = 10,
    binning: BinningStrategy = "uniform",
) -> dict[str, float]:
    """Compute metric and output-judge dimensions on a set of example results.

    Args:
        results: per-example results (any subset, repeats allowed).
        targets: the examples' targets, aligned with ``results``.
        task: the task.
        metrics: metric names to compute.
        output_judges: output-judge dimension names (``"judge_coherence"``, ...) to average.
        n_bins: ECE bins.
        binning: ECE binning strategy.

    Returns:
        Dimension name -> raw value (``nan`` where undefined on this subset).
    """
    predictions = [r.prediction for r in results]
    scores: dict[str, float] = {}
    gold = [task.labels.index(t) for t in targets] if task.labels is not None else []
    for name in metrics:
        if name == "accuracy":
            scores[name] = accuracy(predictions, list(targets))
        elif name == "balanced_accuracy":
            scores[name] = balanced_accuracy(predictions, list(targets), labels=task.labels)
        elif name == "macro_f1":
            scores[name] = macro_f1(predictions, list(targets), labels=task.labels)
        elif name == "exact_match":
            scores[name] = exact_match(predictions, list(targets))
        elif name == "instruction_following":
            rated = [r for r in results if r.failed or r.contract_ok is not None]
            scores[name] = sum(bool(r.contract_ok) for r in rated) / len(rated) if rated else math.nan
        elif name in CALIBRATION_METRICS:
            scores[name] = _calibration(name, results, gold, task, n_bins, binning)
        else:
            raise ValueError(f"unknown metric {name!r}")
    for name in output_judges:
        judged = [r.judge_scores[name] for r in results if name in r.judge_scores]
        scores[name] = float(np.mean(judged)) if judged else math.nan
    return scores
