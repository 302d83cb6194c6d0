"""How well label probabilities rank right answers above wrong ones: AUROC and AUPRC (PR-P, PR-N).

Binary tasks use the probability of the positive class as the score. With more than two classes
every function averages the one-vs-rest binary problems (macro). A binary problem with only one
class present is undefined: it is skipped in a macro average, and a function with nothing left to
average returns ``nan`` (a small dev minibatch can hold one class only; that is not an error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from evaluators.calibration import as_probability_matrix

__all__ = ["auprc", "auprc_negative", "auroc", "binary_auroc", "binary_average_precision"]


def _binary_inputs(scores, is_positive) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(is_positive, dtype=bool)
    if s.ndim != 1 or s.shape != y.shape or s.size == 0:
        raise ValueError(f"need equal-length non-empty 1-D scores and labels, got {s.shape}, {y.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    return s, y


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their mean rank (what the Mann-Whitney statistic needs)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start index of each run of equal values, and each element's run.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    run_of = np.cumsum(np.r_[True, sorted_values[1:] != sorted_values[:-1]]) - 1
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(len(values))
    ranks[order] = mean_rank[run_of]
    return ranks


def binary_auroc(scores: Sequence[float] | np.ndarray, is_positive: Sequence[bool] | np.ndarray) -> float:
    """Area under the ROC curve of a binary problem (ties count one half).

    Args:
        scores: higher means more likely positive.
        is_positive: the gold answer per example.

    Returns:
        A float in [0, 1] (0.5 is chance; higher is better), or ``nan`` with only one class present.
        Equals ``sklearn.metrics.roc_auc_score`` where that is defined.

    Raises:
        ValueError: shapes differ, empty input or non-finite scores.
    """
    s, y = _binary_inputs(scores, is_positive)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    rank_sum = float(_average_ranks(s)[y].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def binary_average_precision(
    scores: Sequence[float] | np.ndarray, is_positive: Sequence[bool] | np.ndarray
) -> float:
    """Average precision: ``sum_t (R_t - R_{t-1}) * P_t`` over the distinct score thresholds.

    Args:
        scores: higher means more likely positive.
        is_positive: the gold answer per example.

    Returns:
        A float in [0, 1] (the positive rate is chance; higher is better), or ``nan`` without positives.
        Equals ``sklearn.metrics.average_precision_score`` where that is defined.

    Raises:
        ValueError: shapes differ, empty input or non-finite scores.
    """
    s, y = _binary_inputs(scores, is_positive)
    n_pos = int(y.sum())
    if n_pos == 0:
        return math.nan
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # A threshold sits at the last element of each run of equal scores.
    last_of_run = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    tp = np.cumsum(y_sorted)[last_of_run]
    predicted = (np.flatnonzero(last_of_run) + 1).astype(float)
    precision = tp / predicted
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _per_class(binary, probs, labels, positive: int, *, negative: bool = False) -> float:
    """``binary(scores, targets)`` for the positive class of a binary task, else the macro mean of the
    one-vs-rest values over classes (undefined ones skipped). ``negative`` targets "not class c",
    scored by ``1 - p_c``."""
    p, y = as_probability_matrix(probs, labels)
    binary_task = p.shape[1] == 2
    if binary_task:
        _check_positive(positive)
    values = [
        binary(1.0 - p[:, c], y != c) if negative else binary(p[:, c], y == c)
        for c in ([positive] if binary_task else range(p.shape[1]))
    ]
    if binary_task:
        return values[0]
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else math.nan


def auroc(probs: Sequence | np.ndarray, labels: Sequence[int] | np.ndarray, positive: int = 1) -> float:
    """AUROC of label probabilities; one-vs-rest macro for more than two classes.

    Args:
        probs: ``(n, k)`` label probabilities (rows sum to 1), or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.
        positive: index of the positive class of a binary task (ignored when ``k > 2``).

    Returns:
        A float in [0, 1]; higher is better; ``nan`` when undefined (see the module docstring).

    Raises:
        ValueError: see ``evaluators.calibration.as_probability_matrix``; ``positive`` out of range.
    """
    return _per_class(binary_auroc, probs, labels, positive)


def auprc(probs: Sequence | np.ndarray, labels: Sequence[int] | np.ndarray, positive: int = 1) -> float:
    """PR-P: average precision with the positive class as the target; one-vs-rest macro for ``k > 2``.

    Args:
        probs: ``(n, k)`` label probabilities, or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.
        positive: index of the positive class of a binary task (ignored when ``k > 2``).

    Returns:
        A float in [0, 1]; higher is better; ``nan`` when undefined.

    Raises:
        ValueError: see ``evaluators.calibration.as_probability_matrix``; ``positive`` out of range.
    """
    return _per_class(binary_average_precision, probs, labels, positive)


def auprc_negative(
    probs: Sequence | np.ndarray, labels: Sequence[int] | np.ndarray, positive: int = 1
) -> float:
    """PR-N: average precision with the negative class as the target, scored by ``1 - p(positive)``.

    It shows whether a prompt is good at recognising negatives, which PR-P hides on skewed tasks. With
    ``k > 2``, the macro mean over classes ``c`` of AP(``label != c``, ``1 - p_c``).

    Args:
        probs: ``(n, k)`` label probabilities, or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.
        positive: index of the positive class of a binary task (ignored when ``k > 2``).

    Returns:
        A float in [0, 1]; higher is better; ``nan`` when undefined.

    Raises:
        ValueError: see ``evaluators.calibration.as_probability_matrix``; ``positive`` out of range.
    """
    return _per_class(binary_average_precision, probs, labels, positive, negative=True)


def _check_positive(positive: int) -> None:
    if positive not in (0, 1):
        raise ValueError(f"positive must be 0 or 1 for a binary task, got {positive}")
