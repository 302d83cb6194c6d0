"""Paired permutation test of a label metric: could swapping the two answers explain the difference?

Under the null hypothesis the contender's and the reference's answers are exchangeable on every
example, so each example's pair of answers may be swapped with probability 1/2. The statistic is the
same difference ``metric(contender) - metric(reference)`` that the paired bootstrap puts an interval
on, so the interval and the test speak of one metric. The two-sided p-value is the probability, over
the swaps, of a difference at least as far from zero as the one observed.

- **accuracy**: an example moves the difference by +-1/n when exactly one of the two is right, so
  the test is McNemar's exact test (``sign_test_p``) on those examples.
- **balanced accuracy**: an example of class c where exactly one is right moves it by
  +-1/(k * n_c), with k the classes present and n_c the examples of c. The swaps inside one class are
  a binomial count, so the null distribution is an exact convolution over the classes, as long as
  each step's grid (points so far times the class's outcomes) stays under ``EXACT_LIMIT`` (every
  binary task and most others).
- **macro-F1**, and balanced accuracy past the limit: a seeded Monte Carlo over random swaps, with
  p = (1 + draws at least as extreme) / (1 + draws), which never reads 0.
"""

from __future__ import annotations

import math

import numpy as np

from evaluators.label_rows import LABEL_ROW_METRICS, label_metric_rows

__all__ = ["EXACT_LIMIT", "MONTE_CARLO_DRAWS", "paired_permutation_p", "sign_test_p"]

#: Largest null distribution (distinct points) convolved exactly for balanced accuracy.
EXACT_LIMIT = 1_000_000
#: Random swaps drawn where the exact distribution is out of reach.
MONTE_CARLO_DRAWS = 20_000
# Differences closer than this are one value: float sums of 1/(k * n_c) in another order differ by ulps.
_TOLERANCE = 1e-9


def _binomial_pmf(m: int) -> np.ndarray:
    """P(j of m fair coin flips come up heads), j = 0..m, in O(m) (log space: no m-digit integers)."""
    j = np.arange(m + 1)
    log_choose = math.lgamma(m + 1) - np.array([math.lgamma(i + 1) + math.lgamma(m - i + 1) for i in j])
    return np.exp(log_choose - m * math.log(2))


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided exact sign test (McNemar's exact test) of ``wins`` against ``losses``: the examples
    where only the contender, or only the reference, is right. 1.0 when none differ.

    Returns:
        The p-value, in [0, 1].
    """
    n = wins + losses
    if n == 0:
        return 1.0
    tail = float(_binomial_pmf(n)[: min(wins, losses) + 1].sum())
    return min(1.0, 2 * tail)


def paired_permutation_p(
    gold: np.ndarray, contender: np.ndarray, reference: np.ndarray, k: int, metric: str, *, seed: int = 0
) -> float:
    """Two-sided p-value of ``metric(contender) - metric(reference)`` under random swaps of the answers.

    Args:
        gold: ``(n,)`` gold label indices in ``[0, k)``.
        contender: ``(n,)`` predicted indices in ``[0, k]`` (``k`` = no valid answer).
        reference: ``(n,)`` predicted indices on the same examples.
        k: number of labels.
        metric: one of ``LABEL_ROW_METRICS``.
        seed: seed of the Monte Carlo draws (used only where the test is not exact).

    Returns:
        The p-value, in (0, 1]; 1.0 when the two answer alike everywhere.

    Raises:
        ValueError: an unknown metric, mismatched shapes, or a gold index outside ``[0, k)``.
    """
    if metric not in LABEL_ROW_METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {LABEL_ROW_METRICS}")
    gold, contender, reference = (np.asarray(x, dtype=int) for x in (gold, contender, reference))
    if not (gold.shape == contender.shape == reference.shape) or gold.ndim != 1:
        raise ValueError(f"need three equal 1-d shapes: {gold.shape}, {contender.shape}, {reference.shape}")
    if gold.size and (gold.min() < 0 or gold.max() >= k):
        raise ValueError(f"gold label indices must lie in [0, {k})")
    if not np.any(contender != reference):
        return 1.0
    a_right, b_right = contender == gold, reference == gold
    if metric == "accuracy":
        return sign_test_p(int(np.sum(a_right & ~b_right)), int(np.sum(~a_right & b_right)))
    if metric == "balanced_accuracy":
        exact = _balanced_accuracy_exact(gold, a_right, b_right, k)
        if exact is not None:
            return exact
    return _monte_carlo(gold, contender, reference, k, metric, seed)


def _balanced_accuracy_exact(
    gold: np.ndarray, a_right: np.ndarray, b_right: np.ndarray, k: int
) -> float | None:
    """The exact p-value by convolution over classes, or None past ``EXACT_LIMIT`` points."""
    support = np.bincount(gold, minlength=k)
    weight = 1.0 / (np.count_nonzero(support) * np.maximum(support, 1))  # one right answer of class c
    observed, values, probs = 0.0, np.zeros(1), np.ones(1)
    for c in range(k):
        wins = int(np.sum(a_right & ~b_right & (gold == c)))
        losses = int(np.sum(~a_right & b_right & (gold == c)))
        m = wins + losses
        if m == 0:
            continue
        observed += weight[c] * (wins - losses)
        if values.size * (m + 1) > EXACT_LIMIT:
            return None
        steps = weight[c] * (2 * np.arange(m + 1) - m)  # the class's share of the difference
        step_probs = _binomial_pmf(m)
        values = (values[:, None] + steps[None, :]).ravel()
        probs = (probs[:, None] * step_probs[None, :]).ravel()
        values, probs = _merge(values, probs)
    return float(min(1.0, probs[np.abs(values) >= abs(observed) - _TOLERANCE].sum()))


def _merge(values: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool the probability of values that are equal up to ``_TOLERANCE``.

    Each pool keeps one of its own values, never the grid point of its key: snapped to a grid, the
    error would add up over the classes and push a value tied with the observed one out of the tail.
    """
    keys = np.round(values / _TOLERANCE).astype(np.int64)
    unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return values[first], np.bincount(inverse, weights=probs, minlength=unique.size)


def _monte_carlo(
    gold: np.ndarray, contender: np.ndarray, reference: np.ndarray, k: int, metric: str, seed: int
) -> float:
    """p = (1 + swaps at least as extreme) / (1 + swaps), over ``MONTE_CARLO_DRAWS`` random swaps."""
    differ = np.flatnonzero(contender != reference)
    if differ.size == 0:
        return 1.0
    rng = np.random.default_rng(seed)

    def difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows = np.broadcast_to(gold, a.shape)
        return label_metric_rows(rows, a, k, metric) - label_metric_rows(rows, b, k, metric)

    observed = abs(float(difference(contender[None, :], reference[None, :])[0]))
    extreme, chunk = 0, 2_000
    for start in range(0, MONTE_CARLO_DRAWS, chunk):
        rows = min(chunk, MONTE_CARLO_DRAWS - start)
        swap = np.zeros((rows, gold.size), dtype=bool)
        swap[:, differ] = rng.random((rows, differ.size)) < 0.5
        a = np.where(swap, reference, contender)
        b = np.where(swap, contender, reference)
        extreme += int(np.sum(np.abs(difference(a, b)) >= observed - _TOLERANCE))
    return (1 + extreme) / (1 + MONTE_CARLO_DRAWS)
