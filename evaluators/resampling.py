"""Fast resampled dimensions for the bootstrap: per-example decompositions of the metrics that have one.

A bootstrap interval recomputes a dimension on 1,000 resamples of the examples. Recomputing it
through ``score_dimensions`` costs 30-50 us per resample (small numpy arrays, validation); for the
dimensions that are a mean over examples, or a sum over fixed bins, the per-example parts are
computed once and all resamples are evaluated in one array operation (``Resampled.batched``):

* means of a per-example value over the examples where it is defined: ``accuracy``,
  ``exact_match``, ``instruction_following``, ``brier`` and output-judge dimensions;
* ``ece`` with uniform bins: ``sum_b |sum_{i in b} (correct_i - confidence_i)| / n``, each example's
  bin being fixed by its confidence;
* ``macro_f1`` and ``balanced_accuracy`` over a task's label set: per-class counts from one
  ``bincount`` of (gold, predicted) pairs (``label_rows.label_metric_rows``).

Other dimensions (``auroc``, the PR curves, quantile-binned ECE, ``macro_f1`` of free-form tasks)
return None and the caller falls back to the full computation. ``tests/test_evaluators_resampling.py``
checks that both paths agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from evaluators.calibration import BinningStrategy
from evaluators.label_rows import encode_labels, label_metric_rows
from evaluators.scoring import ExampleResult, score_dimensions
from evaluators.task import TaskSpec

__all__ = ["resampled_dimension"]

_MEANS = ("accuracy", "exact_match", "instruction_following", "brier")


class Resampled:
    """A dimension as a function of example indices, plus ``batched`` for many resamples at once.

    ``resampled(indices)`` takes a 1-D index array (repeats allowed) and returns the value;
    ``resampled.batched(matrix)`` takes an ``(n_resamples, n)`` index matrix and returns one value per
    row (what ``bootstrap.bootstrap_metric_ci`` uses: one array operation instead of 1,000 calls).
    """

    def __init__(self, batched: Callable[[np.ndarray], np.ndarray]):
        self.batched = batched

    def __call__(self, indices: np.ndarray) -> float:
        return float(self.batched(np.asarray(indices)[None, :])[0])


def resampled_dimension(
    name: str,
    results: Sequence[ExampleResult],
    targets: Sequence[str | tuple[str, ...]],
    task: TaskSpec,
    *,
    is_judge: bool,
    n_bins: int,
    binning: BinningStrategy,
) -> Resampled | None:
    """A function of example indices (repeats allowed) computing dimension ``name``, or None.

    Args:
        name: the dimension.
        results, targets: every example's result and target, aligned.
        task: the task.
        is_judge: ``name`` is an output-judge dimension.
        n_bins, binning: the ECE settings of the report.

    Returns:
        The fast function, equal to ``score_dimensions`` on the indexed examples up to float
        rounding; None when ``name`` has no per-example decomposition.
    """
    if is_judge or name in _MEANS:
        metrics, judges = ((), (name,)) if is_judge else ((name,), ())
        values = np.array(
            [
                score_dimensions([r], [t], task, metrics, judges, n_bins=n_bins, binning=binning)[name]
                for r, t in zip(results, targets, strict=True)
            ],
            dtype=float,
        )
        return _mean_where_defined(values)
    if name == "ece" and binning == "uniform":
        return _uniform_ece(results, n_bins)
    if name in ("macro_f1", "balanced_accuracy") and task.labels is not None:
        return _label_metric(name, results, targets, task.labels)
    return None


def _mean_where_defined(values: np.ndarray) -> Resampled:
    defined = ~np.isnan(values)
    filled = np.where(defined, values, 0.0)

    def batched(indices: np.ndarray) -> np.ndarray:
        counts = defined[indices].sum(axis=1)
        totals = filled[indices].sum(axis=1)
        return np.divide(totals, counts, out=np.full(len(indices), math.nan), where=counts > 0)

    return Resampled(batched)


def _uniform_ece(results: Sequence[ExampleResult], n_bins: int) -> Resampled:
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    kept = np.array([not r.failed and r.probs is not None for r in results])
    confidence = np.array([r.confidence if k else 0.0 for r, k in zip(results, kept, strict=True)], float)
    correct = np.array([bool(r.correct) for r in results], dtype=float)
    # The same bins as calibration._bin_members: (lo, hi], a confidence of exactly 0 in the first.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")
    gap = np.where(kept, correct - confidence, 0.0)

    def batched(indices: np.ndarray) -> np.ndarray:
        rows = len(indices)
        slots = bins[indices] + n_bins * np.arange(rows)[:, None]  # one block of bins per resample
        per_bin = np.bincount(slots.ravel(), weights=gap[indices].ravel(), minlength=rows * n_bins)
        counts = kept[indices].sum(axis=1)
        total = np.abs(per_bin.reshape(rows, n_bins)).sum(axis=1)
        return np.divide(total, counts, out=np.full(rows, math.nan), where=counts > 0)

    return Resampled(batched)


def _label_metric(
    name: str, results: Sequence[ExampleResult], targets: Sequence, labels: Sequence[str]
) -> Resampled | None:
    """``metrics.macro_f1`` / ``balanced_accuracy`` with ``labels``; no prediction counts as class ``k``."""
    if any(r.prediction is not None and r.prediction not in labels for r in results):
        return None
    k = len(labels)
    gold = encode_labels(targets, labels)
    predicted = encode_labels([r.prediction for r in results], labels)
    return Resampled(lambda indices: label_metric_rows(gold[indices], predicted[indices], k, name))
