"""Label metrics of many prediction vectors at once, from one confusion count per row.

The trivial baselines (thousands of random answer vectors) and the paired comparisons (a thousand
bootstrap resamples) compute accuracy, balanced accuracy and macro-F1 on many rows of the same
examples; doing it with one ``bincount`` per batch keeps that to milliseconds. The results equal
``metrics.accuracy``, ``metrics.balanced_accuracy`` and ``metrics.macro_f1`` (with the task's label
set) on each row; ``tests/test_evaluators_trivial.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

__all__ = ["LABEL_ROW_METRICS", "encode_labels", "label_metric_rows"]

#: Metrics ``label_metric_rows`` computes (all in [0, 1], higher is better).
LABEL_ROW_METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


def encode_labels(values: Sequence[Hashable | None], labels: Sequence[Hashable]) -> np.ndarray:
    """Label indices; ``None`` or a value outside ``labels`` becomes ``len(labels)`` (never right)."""
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index.get(v, len(labels)) if v is not None else len(labels) for v in values], dtype=int)


def label_metric_rows(gold: np.ndarray, predicted: np.ndarray, k: int, metric: str) -> np.ndarray:
    """One metric value per row.

    Args:
        gold: ``(rows, n)`` gold label indices in ``[0, k)``.
        predicted: ``(rows, n)`` predicted indices in ``[0, k]`` (``k`` = no valid answer).
        k: number of labels.
        metric: one of ``LABEL_ROW_METRICS``.

    Returns:
        ``(rows,)`` values in [0, 1]; ``nan`` for balanced accuracy of a row without gold labels.

    Raises:
        ValueError: an unknown metric or mismatched shapes.
    """
    if metric not in LABEL_ROW_METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {LABEL_ROW_METRICS}")
    gold, predicted = np.atleast_2d(gold), np.atleast_2d(predicted)
    if gold.shape != predicted.shape:
        raise ValueError(f"gold {gold.shape} and predicted {predicted.shape} differ")
    rows, n = gold.shape
    cells = k * (k + 1)
    slots = gold * (k + 1) + predicted + cells * np.arange(rows)[:, None]
    confusion = np.bincount(slots.ravel(), minlength=rows * cells).reshape(rows, k, k + 1)
    tp = np.diagonal(confusion[:, :, :k], axis1=1, axis2=2).astype(float)
    if metric == "accuracy":
        return tp.sum(axis=1) / n
    support = confusion.sum(axis=2).astype(float)
    if metric == "balanced_accuracy":
        present = support > 0
        recall = np.divide(tp, support, out=np.zeros_like(tp), where=present)
        count = present.sum(axis=1)
        return np.divide(recall.sum(axis=1), count, out=np.full(rows, np.nan), where=count > 0)
    fp = confusion[:, :, :k].sum(axis=1) - tp
    fn = support - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1.mean(axis=1)
