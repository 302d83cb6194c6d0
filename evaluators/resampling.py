"""Fast resampled dimensions for the bootstrap: per-example decompositions of the metrics that have one.

A bootstrap interval recomputes a dimension on 1,000 resamples of the examples. Recomputing it
through ``score_dimensions`` costs 30-50 us per resample (small numpy arrays, validation); for the
dimensions that are a mean over examples, or a sum over fixed bins, the per-example parts are
computed once and each resample is an index operation (~5 us):

* means of a per-example value over the examples where it is defined: ``accuracy``,
  ``exact_match``, ``instruction_following``, ``brier`` and output-judge dimensions;
* ``ece`` with uniform bins: ``sum_b |sum_{i in b} (correct_i - confidence_i)| / n``, each example's
  bin being fixed by its confidence;
* ``macro_f1`` over a task's label set: per-class counts from one ``bincount`` of (gold, predicted)
  pairs.

Other dimensions (``auroc``, the PR curves, quantile-binned ECE, ``macro_f1`` of free-form tasks)
return None and the caller falls back to the full computation. ``tests/test_evaluators_resampling.py``
checks that both paths agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from evaluators.calibration import BinningStrategy
from evaluators.scoring import ExampleResult, score_dimensions
from evaluators.task import TaskSpec

__all__ = ["resampled_dimension"]

_MEANS = ("accuracy", "exact_match", "instruction_following", "brier")

Resampled = Callable[[np.ndarray], float]


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
    if name == "macro_f1" and task.labels is not None:
        return _label_macro_f1(results, targets, task.labels)
    return None


def _label_macro_f1(
    results: Sequence[ExampleResult], targets: Sequence, labels: Sequence[str]
) -> Resampled | None:
    """``metrics.macro_f1`` with ``labels`` given; a missing prediction counts as the extra class ``k``."""
    k = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    if any(r.prediction is not None and r.prediction not in index for r in results):
        return None
    gold = np.array([index[t] for t in targets])
    predicted = np.array([k if r.prediction is None else index[r.prediction] for r in results])
    pairs = gold * (k + 1) + predicted

    def metric(indices: np.ndarray) -> float:
        confusion = np.bincount(pairs[indices], minlength=k * (k + 1)).reshape(k, k + 1)
        tp = np.diag(confusion[:, :k])
        fp = confusion[:, :k].sum(axis=0) - tp
        fn = confusion.sum(axis=1) - tp
        denominator = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denominator, out=np.zeros(k), where=denominator > 0)
        return float(f1.mean())

    return metric


def _mean_where_defined(values: np.ndarray) -> Resampled:
    defined = ~np.isnan(values)

    def metric(indices: np.ndarray) -> float:
        keep = defined[indices]
        if not keep.any():
            return math.nan
        return float(values[indices][keep].mean())

    return metric


def _uniform_ece(results: Sequence[ExampleResult], n_bins: int) -> Resampled:
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    kept = np.array([not r.failed and r.probs is not None for r in results])
    confidence = np.array([r.confidence if k else 0.0 for r, k in zip(results, kept, strict=True)], float)
    correct = np.array([bool(r.correct) for r in results], dtype=float)
    # The same bins as calibration._bin_members: (lo, hi], a confidence of exactly 0 in the first.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], confidence, side="left")
    gap = correct - confidence

    def metric(indices: np.ndarray) -> float:
        keep = kept[indices]
        count = int(keep.sum())
        if count == 0:
            return math.nan
        chosen = indices[keep]
        per_bin = np.bincount(bins[chosen], weights=gap[chosen], minlength=n_bins)
        return float(np.abs(per_bin).sum() / count)

    return metric
