"""Calibration of label probabilities: top-label ECE, reliability bins, Brier score.

Probabilities come from label-likelihood scoring (local and log-prob backends) as an ``(n, k)``
array whose rows sum to 1, or from a verbalised confidence (see ``evaluators.confidence``); for the
latter, ``ece_from_confidences`` takes the stated confidence and whether the answer was right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "BinningStrategy",
    "ReliabilityBin",
    "as_probability_matrix",
    "brier_score",
    "ece_from_confidences",
    "expected_calibration_error",
    "reliability_bins",
]

BinningStrategy = Literal["uniform", "quantile"]
_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability diagram.

    Attributes:
        lower: lower edge (uniform: the bin edge; quantile: smallest confidence in the bin).
        upper: upper edge (uniform: the bin edge; quantile: largest confidence in the bin).
        count: examples in the bin.
        mean_confidence: mean top-label confidence of those examples (``nan`` when empty).
        accuracy: share of them answered correctly (``nan`` when empty).
    """

    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


def as_probability_matrix(
    probs: Sequence | np.ndarray, labels: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``probs`` and ``labels`` and return them as arrays.

    A 1-D ``probs`` is read as the probability of class 1 of a binary task and expanded to two columns.

    Args:
        probs: ``(n, k)`` label probabilities, rows summing to 1, or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices in ``[0, k)``.

    Returns:
        ``(probs, labels)`` as a float ``(n, k)`` array and an int ``(n,)`` array.

    Raises:
        ValueError: shapes disagree, there are no examples, a value is outside [0, 1] or not finite,
            a row does not sum to 1, or a label index is out of range.
    """
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels)
    if p.ndim == 1:
        p = np.stack([1.0 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (n, k) with n >= 1 and k >= 2, got {np.shape(probs)}")
    if y.ndim != 1 or y.shape[0] != p.shape[0]:
        raise ValueError(f"labels must have shape ({p.shape[0]},), got {y.shape}")
    if not np.all(np.isfinite(p)) or p.min() < -_SUM_TOLERANCE or p.max() > 1 + _SUM_TOLERANCE:
        raise ValueError("probs must be finite and inside [0, 1]")
    row_sums = p.sum(axis=1)
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > _SUM_TOLERANCE)
    if bad.size:
        raise ValueError(f"probs row {int(bad[0])} sums to {row_sums[bad[0]]:.6g}, not 1")
    if y.size and (not np.issubdtype(y.dtype, np.integer) and y.dtype != bool):
        raise ValueError(f"labels must be integer class indices, got dtype {y.dtype}")
    y = y.astype(int)
    if y.min() < 0 or y.max() >= p.shape[1]:
        raise ValueError(f"labels must lie in [0, {p.shape[1]}), got range [{y.min()}, {y.max()}]")
    return p, y


def _bin_members(confidences: np.ndarray, n_bins: int, strategy: str) -> list[np.ndarray]:
    """Indices of the examples in each bin, in bin order."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        # side="left" gives bins (lo, hi], with a confidence of exactly 0 in the first bin.
        which = np.searchsorted(edges[1:-1], confidences, side="left")
        return [np.flatnonzero(which == b) for b in range(n_bins)]
    if strategy == "quantile":
        # Equal-mass bins: stable-sorted by confidence and cut into n_bins groups whose sizes differ
        # by at most one, so ties never produce empty bins and the result is deterministic.
        order = np.argsort(confidences, kind="stable")
        return [chunk for chunk in np.array_split(order, min(n_bins, len(order))) if chunk.size]
    raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")


def _check_confidences(confidences, correct) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if c.ndim != 1 or c.shape != ok.shape or c.size == 0:
        raise ValueError(
            f"need equal-length non-empty 1-D confidences and correct, got {c.shape}, {ok.shape}"
        )
    if not np.all(np.isfinite(c)) or c.min() < 0 or c.max() > 1:
        raise ValueError("confidences must be finite and inside [0, 1]")
    return c, ok


def ece_from_confidences(
    confidences: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    n_bins: int = 10,
    strategy: BinningStrategy = "uniform",
) -> float:
    """ECE of stated confidences: ``sum_b |B_b|/n * |accuracy(B_b) - mean_confidence(B_b)|``.

    Args:
        confidences: confidence in each answer, in [0, 1].
        correct: whether each answer was right.
        n_bins: number of bins.
        strategy: ``"uniform"`` (equal-width bins (lo, hi] over [0, 1]) or ``"quantile"`` (equal-size bins).

    Returns:
        A float in [0, 1]; lower is better.

    Raises:
        ValueError: bad shapes or values, ``n_bins < 1`` or an unknown strategy.
    """
    c, ok = _check_confidences(confidences, correct)
    total = 0.0
    for members in _bin_members(c, n_bins, strategy):
        if members.size:
            total += members.size * abs(ok[members].mean() - c[members].mean())
    return float(total / c.size)


def expected_calibration_error(
    probs: Sequence | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    n_bins: int = 10,
    strategy: BinningStrategy = "uniform",
) -> float:
    """Top-label expected calibration error of label probabilities.

    The prediction is the arg-max label (ties go to the lowest index) and its probability is the
    confidence; see ``ece_from_confidences`` for the binning.

    Args:
        probs: ``(n, k)`` label probabilities (rows sum to 1), or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.
        n_bins: number of bins.
        strategy: ``"uniform"`` or ``"quantile"``.

    Returns:
        A float in [0, 1]; lower is better.

    Raises:
        ValueError: see ``as_probability_matrix``; bad ``n_bins`` or ``strategy``.
    """
    p, y = as_probability_matrix(probs, labels)
    return ece_from_confidences(p.max(axis=1), p.argmax(axis=1) == y, n_bins=n_bins, strategy=strategy)


def reliability_bins(
    probs: Sequence | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    n_bins: int = 10,
    strategy: BinningStrategy = "uniform",
) -> list[ReliabilityBin]:
    """The bins behind ``expected_calibration_error``, for a reliability diagram.

    Args:
        probs: ``(n, k)`` label probabilities, or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.
        n_bins: number of bins.
        strategy: ``"uniform"`` (all ``n_bins`` bins, empty ones included) or ``"quantile"``.

    Returns:
        The bins in increasing order of confidence.

    Raises:
        ValueError: as ``expected_calibration_error``.
    """
    p, y = as_probability_matrix(probs, labels)
    conf, ok = p.max(axis=1), p.argmax(axis=1) == y
    out = []
    members_per_bin = _bin_members(conf, n_bins, strategy)
    for b, members in enumerate(members_per_bin):
        if strategy == "uniform":
            lower, upper = b / n_bins, (b + 1) / n_bins
        else:
            lower, upper = float(conf[members].min()), float(conf[members].max())
        empty = members.size == 0
        out.append(
            ReliabilityBin(
                lower=lower,
                upper=upper,
                count=int(members.size),
                mean_confidence=math.nan if empty else float(conf[members].mean()),
                accuracy=math.nan if empty else float(ok[members].mean()),
            )
        )
    return out


def brier_score(probs: Sequence | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    """Mean squared error between label probabilities and the one-hot gold label.

    Binary tasks (1-D ``probs`` or two columns) use ``mean((p_1 - y)^2)``, in [0, 1]; with ``k > 2``
    classes it is ``mean(sum_j (p_j - onehot_j)^2)``, in [0, 2]. Equals ``sklearn.metrics.brier_score_loss``.

    Args:
        probs: ``(n, k)`` label probabilities, or ``(n,)`` binary positive-class probs.
        labels: ``n`` gold class indices.

    Returns:
        A float in [0, 1] (binary) or [0, 2] (multiclass); lower is better.

    Raises:
        ValueError: see ``as_probability_matrix``.
    """
    p, y = as_probability_matrix(probs, labels)
    if p.shape[1] == 2:
        return float(np.mean((p[:, 1] - y) ** 2))
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
