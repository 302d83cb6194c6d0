"""The statistics of the instruction-sensitivity screen, as pure functions of label log-likelihoods.

Predictions follow the product: the label log-likelihoods are softmaxed over the label set, batch
calibration (``evaluators.label_calibration.batch_calibrate``, the default ``scoring.calibration``)
is applied over the scored examples or not (``raw``), and the arg-max wins with ties to the lowest
label index. Intervals are the project's percentile bootstrap (``evaluators.bootstrap``) of
balanced accuracy. Best against worst is tested three ways: ``spread_p`` (the max - min spread over
all variants under shuffles of each example's answers among them, so that picking best and worst
after seeing the scores is part of the test; a task qualifies on it), the exact paired permutation
test of the pair's balanced accuracy (``evaluators.permutation``, the product's verdict test, which
treats the pair as named in advance), and McNemar's exact test on plain right/wrong counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluators.bootstrap import ConfidenceInterval, bootstrap_metric_ci
from evaluators.label_calibration import batch_calibrate
from evaluators.label_rows import encode_labels, label_metric_rows
from evaluators.metrics import balanced_accuracy
from evaluators.permutation import paired_permutation_p, sign_test_p

__all__ = [
    "CALIBRATIONS",
    "TaskVerdict",
    "balanced_accuracy_ci",
    "majority_rate",
    "mcnemar_exact",
    "predict",
    "screen_task",
    "spread_p",
]

CALIBRATIONS = ("raw", "batch")


def majority_rate(targets: Sequence[str]) -> float:
    """Accuracy of always answering the most frequent gold label."""
    if not targets:
        raise ValueError("majority_rate needs at least one target")
    return Counter(targets).most_common(1)[0][1] / len(targets)


def predict(logprobs: Sequence[Sequence[float]], labels: Sequence[str], calibration: str) -> list[str]:
    """Predicted labels from ``(n, k)`` label log-likelihoods, ``raw`` or ``batch`` calibrated."""
    scores = np.asarray(logprobs, dtype=float)
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    if calibration == "batch":
        probs = batch_calibrate(probs)
    elif calibration != "raw":
        raise ValueError(f"unknown calibration {calibration!r}; use one of {CALIBRATIONS}")
    return [labels[int(i)] for i in probs.argmax(axis=1)]  # argmax: ties go to the lowest index


def balanced_accuracy_ci(
    predictions: Sequence[str], targets: Sequence[str], labels: Sequence[str], seed: int = 0
) -> ConfidenceInterval:
    """95% percentile bootstrap interval of balanced accuracy (1000 resamples of the examples)."""
    predicted, gold = np.asarray(predictions, dtype=object), np.asarray(targets, dtype=object)

    def metric(idx: np.ndarray) -> float:
        return balanced_accuracy(list(predicted[idx]), list(gold[idx]), labels=labels)

    return bootstrap_metric_ci(metric, len(targets), seed=seed)


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> tuple[int, int, float]:
    """McNemar's exact test (two-sided sign test on the discordant examples).

    Returns:
        ``(a_only, b_only, p)``: examples only A gets right, only B gets right, and the p-value.
    """
    if len(correct_a) != len(correct_b):
        raise ValueError("both prompts must be scored on the same examples")
    a_only = sum(bool(a) and not bool(b) for a, b in zip(correct_a, correct_b, strict=True))
    b_only = sum(bool(b) and not bool(a) for a, b in zip(correct_a, correct_b, strict=True))
    return a_only, b_only, sign_test_p(a_only, b_only)


#: Random reassignments drawn by ``spread_p``.
SPREAD_DRAWS = 5000


def spread_p(
    codes: np.ndarray, gold: np.ndarray, k: int, *, draws: int = SPREAD_DRAWS, seed: int = 0
) -> float:
    """p-value of the best-minus-worst balanced accuracy over all variants, selection included.

    Best and worst are picked after seeing the scores, so testing them as a fixed pair overstates the
    evidence. Under the null that the variants are interchangeable on each example, each example's
    answers are shuffled among the variants; the statistic is max - min balanced accuracy over the
    variants, so the selection is part of it. With two variants it is the paired permutation test.

    Args:
        codes: ``(variants, n)`` predicted label indices (``k`` = no valid answer).
        gold: ``(n,)`` gold label indices in ``[0, k)``.
        k: number of labels.
        draws: random shuffles.
        seed: RNG seed.

    Returns:
        ``(1 + shuffles at least as spread) / (1 + draws)``.
    """
    variants, n = codes.shape

    def spread(rows: np.ndarray) -> np.ndarray:  # (draws, variants, n) -> (draws,)
        flat = label_metric_rows(
            np.broadcast_to(gold, rows.shape).reshape(-1, n), rows.reshape(-1, n), k, "balanced_accuracy"
        ).reshape(rows.shape[0], variants)
        return flat.max(axis=1) - flat.min(axis=1)

    observed = spread(codes[None])[0]
    rng = np.random.default_rng(seed)
    hits, chunk = 0, 500
    for start in range(0, draws, chunk):
        rows = min(chunk, draws - start)
        order = np.argsort(rng.random((rows, variants, n)), axis=1)
        shuffled = np.take_along_axis(np.broadcast_to(codes, (rows, variants, n)), order, axis=1)
        hits += int(np.sum(spread(shuffled) >= observed - 1e-9))
    return (1 + hits) / (1 + draws)


@dataclass(frozen=True)
class TaskVerdict:
    """One task under one calibration: best and worst prompt variant and whether the task qualifies."""

    n: int
    majority: float
    chance: float
    scores: dict[str, float]
    best: str
    worst: str
    best_ci: ConfidenceInterval
    worst_ci: ConfidenceInterval
    best_only: int
    worst_only: int
    p: float
    mcnemar_p: float
    selection_p: float

    @property
    def clear_of_chance_and_majority(self) -> bool:
        """The best variant's lower bound lies above both chance (1/k) and the majority rate."""
        return self.best_ci.low > max(self.chance, self.majority)

    @property
    def qualifies(self) -> bool:
        """Clear of chance and majority, and the best-worst spread is significant at 5% with the
        selection of best and worst taken into account (``spread_p``)."""
        return self.clear_of_chance_and_majority and self.selection_p < 0.05


def screen_task(
    logprobs: dict[str, Sequence[Sequence[float]]],
    targets: Sequence[str],
    labels: Sequence[str],
    calibration: str,
) -> TaskVerdict:
    """Score every prompt variant of one task and compare the best with the worst.

    Args:
        logprobs: variant name -> ``(n, k)`` label log-likelihoods on the same ``n`` examples.
        targets: the gold labels.
        labels: the label set, in the order of the log-likelihood columns.
        calibration: ``raw`` or ``batch``.

    Returns:
        The verdict; best and worst are two different variants, by balanced accuracy (ties: the first
        variant listed).
    """
    predictions = {name: predict(rows, labels, calibration) for name, rows in logprobs.items()}
    scores = {name: balanced_accuracy(p, list(targets), labels=labels) for name, p in predictions.items()}
    names = list(scores)
    best = max(names, key=lambda name: (scores[name], -names.index(name)))
    others = [name for name in names if name != best] or names  # with one variant, best is also worst
    worst = min(others, key=lambda name: (scores[name], names.index(name)))
    right = {
        name: [p == t for p, t in zip(predictions[name], targets, strict=True)] for name in (best, worst)
    }
    best_only, worst_only, mcnemar_p = mcnemar_exact(right[best], right[worst])
    gold = encode_labels(targets, labels)
    best_codes, worst_codes = (encode_labels(predictions[name], labels) for name in (best, worst))
    p = paired_permutation_p(gold, best_codes, worst_codes, len(labels), "balanced_accuracy")
    every = np.stack([encode_labels(predictions[name], labels) for name in names])
    return TaskVerdict(
        n=len(targets),
        majority=majority_rate(targets),
        chance=1 / len(set(targets)),
        scores=scores,
        best=best,
        worst=worst,
        best_ci=balanced_accuracy_ci(predictions[best], targets, labels),
        worst_ci=balanced_accuracy_ci(predictions[worst], targets, labels),
        best_only=best_only,
        worst_only=worst_only,
        p=p,
        mcnemar_p=mcnemar_p,
        selection_p=spread_p(every, gold, len(labels)),
    )
