"""Trivial baselines of a labelled split: what a prompt must beat before any gain means anything.

* ``majority``: answer the most frequent gold label of the split for every example. Its accuracy
  is the majority share; its balanced accuracy is exactly ``1 / k``. The interval is the
  bootstrap over the split's examples, like every contender's.
* ``uniform random``: answer a label drawn uniformly at random. The estimate is the expected value
  (``1 / k`` for accuracy and balanced accuracy, the mean over the draws for macro-F1) and the
  interval is the central range of the draws: where a coin-flipping prompt lands on this split.

The majority label is read off the split being scored (the rate a constant answer gets on it), not
off a training split, so the row says exactly what a constant predictor would score here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluators.bootstrap import bootstrap_metric_ci
from evaluators.label_rows import LABEL_ROW_METRICS, encode_labels, label_metric_rows

__all__ = ["TrivialBaseline", "majority_label", "trivial_baselines"]


@dataclass(frozen=True)
class TrivialBaseline:
    """One trivial predictor on one split.

    Attributes:
        name: ``"majority"`` or ``"uniform random"``.
        description: what it answers, e.g. ``"always 'non-entailment' (38/60)"``.
        scores: metric -> value in [0, 1] (higher is better).
        intervals: metric -> ``(low, high)`` at the requested confidence.
    """

    name: str
    description: str
    scores: dict[str, float]
    intervals: dict[str, tuple[float, float]]


def majority_label(targets: Sequence[str], labels: Sequence[str]) -> str:
    """The most frequent gold label; a tie goes to the label listed first in ``labels``."""
    counts = Counter(targets)
    return max(labels, key=lambda label: (counts[label], -labels.index(label)))


def trivial_baselines(
    targets: Sequence[str],
    labels: Sequence[str],
    *,
    metrics: Sequence[str] = LABEL_ROW_METRICS,
    n_draws: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[TrivialBaseline]:
    """The majority-class and uniform-random baselines of a labelled split.

    Args:
        targets: the split's gold labels.
        labels: the task's label set (``k >= 2``).
        metrics: metric names among ``LABEL_ROW_METRICS``.
        n_draws: random answer vectors drawn for the uniform baseline (and bootstrap resamples for
            the majority interval).
        confidence: nominal coverage of the intervals.
        seed: RNG seed; the same seed gives the same rows.

    Returns:
        ``[majority, uniform random]``.

    Raises:
        ValueError: no targets, fewer than two labels, a target outside ``labels``, an unknown metric.
    """
    labels = list(labels)
    if len(labels) < 2:
        raise ValueError(f"trivial baselines need at least two labels, got {labels}")
    if not targets:
        raise ValueError("trivial baselines need at least one target")
    outside = sorted({t for t in targets if t not in labels})
    if outside:
        raise ValueError(f"targets {outside} are not in labels {labels}")
    unknown = [m for m in metrics if m not in LABEL_ROW_METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {LABEL_ROW_METRICS}")
    k, n = len(labels), len(targets)
    gold = encode_labels(targets, labels)
    top = majority_label(targets, labels)
    constant = np.full(n, labels.index(top))

    majority_scores, majority_intervals = {}, {}
    for i, metric in enumerate(metrics):

        def on(indices: np.ndarray, metric: str = metric) -> float:
            return float(label_metric_rows(gold[indices], constant[indices], k, metric)[0])

        ci = bootstrap_metric_ci(on, n, n_resamples=n_draws, confidence=confidence, seed=seed + i)
        majority_scores[metric] = ci.estimate
        majority_intervals[metric] = (ci.low, ci.high)

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(n_draws, n))
    alpha = (1 - confidence) / 2
    uniform_scores, uniform_intervals = {}, {}
    for metric in metrics:
        values = label_metric_rows(np.broadcast_to(gold, draws.shape), draws, k, metric)
        values = values[~np.isnan(values)]
        expected = 1.0 / k if metric in ("accuracy", "balanced_accuracy") else float(values.mean())
        uniform_scores[metric] = expected
        low, high = np.quantile(values, [alpha, 1 - alpha])
        uniform_intervals[metric] = (float(low), float(high))

    count = sum(t == top for t in targets)
    return [
        TrivialBaseline("majority", f"always {top!r} ({count}/{n})", majority_scores, majority_intervals),
        TrivialBaseline(
            "uniform random", f"a label at random (1/{k} each)", uniform_scores, uniform_intervals
        ),
    ]
