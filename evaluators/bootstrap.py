"""Bootstrap confidence intervals from per-example scores, seeded.

``bootstrap_ci`` resamples per-example values (accuracy as 0/1, judge scores, ...) and applies a
statistic; ``bootstrap_metric_ci`` resamples example indices and recomputes any metric that is not a
mean of per-example values (ECE, AUROC, macro-F1); ``paired_bootstrap`` compares two prompts scored on
the same examples by resampling the same indices for both.

Rows that are not independent (the same test example scored once per search seed, then pooled) are
resampled as clusters: pass ``clusters`` (one key per row, e.g. the example's identity) and each
resample draws clusters with replacement and takes all their rows. Resampling such rows one by one
would treat five answers to one example as five examples, and the interval would be too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ConfidenceInterval",
    "PairedComparison",
    "bootstrap_ci",
    "bootstrap_metric_ci",
    "paired_bootstrap",
]


@dataclass(frozen=True)
class ConfidenceInterval:
    """A percentile bootstrap interval.

    Attributes:
        estimate: the statistic on the full sample.
        low: lower bound.
        high: upper bound.
        confidence: the nominal coverage, e.g. 0.95.
        n_resamples: resamples that gave a defined value (undefined ones, ``nan``, are skipped).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int


@dataclass(frozen=True)
class PairedComparison:
    """Two prompts on the same examples.

    Attributes:
        difference: ``metric(a) - metric(b)`` with its interval.
        prob_a_better: share of resamples where ``a`` scored strictly higher than ``b``.
    """

    difference: ConfidenceInterval
    prob_a_better: float


def _check(n: int, n_resamples: int, confidence: float) -> None:
    if n < 1:
        raise ValueError("bootstrap needs at least one example")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _cluster_rows(clusters: Sequence[Hashable], n: int) -> list[np.ndarray]:
    """The row indices of each cluster, in order of first appearance."""
    if len(clusters) != n:
        raise ValueError(f"clusters must name one cluster per row: {len(clusters)} keys for {n} rows")
    rows: dict[Hashable, list[int]] = {}
    for i, key in enumerate(clusters):
        rows.setdefault(key, []).append(i)
    return [np.array(members) for members in rows.values()]


def _draws(
    rng: np.random.Generator, n: int, n_resamples: int, clusters: Sequence[Hashable] | None
) -> Iterator[np.ndarray]:
    """Resampled row indices, one array per resample: rows, or whole clusters, with replacement."""
    if clusters is None:
        for _ in range(n_resamples):
            yield rng.integers(0, n, size=n)
        return
    groups = _cluster_rows(clusters, n)
    for _ in range(n_resamples):
        yield np.concatenate([groups[g] for g in rng.integers(0, len(groups), size=len(groups))])


def _interval(estimate: float, samples: np.ndarray, confidence: float) -> ConfidenceInterval:
    finite = samples[~np.isnan(samples)]
    if finite.size == 0:
        return ConfidenceInterval(estimate, math.nan, math.nan, confidence, 0)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return ConfidenceInterval(estimate, float(low), float(high), confidence, int(finite.size))


def bootstrap_metric_ci(
    metric: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Hashable] | None = None,
) -> ConfidenceInterval:
    """Percentile interval of a metric recomputed on resampled example indices.

    Args:
        metric: computes the metric on the examples at the given indices (with repeats). When it has
            a ``batched`` attribute, ``metric.batched(indices)`` takes an ``(n_resamples, n)`` index
            matrix and returns the ``n_resamples`` values at once (same draws, same result).
        n: number of examples.
        n_resamples: bootstrap resamples.
        confidence: nominal coverage.
        seed: RNG seed; the same seed gives the same interval.
        clusters: one key per row; rows with the same key are resampled together (None: every row
            is its own cluster).

    Returns:
        The interval; ``estimate`` is the metric on all examples.

    Raises:
        ValueError: ``n < 1``, ``n_resamples < 1``, ``confidence`` outside (0, 1), or ``clusters``
            of another length than ``n``.
    """
    _check(n, n_resamples, confidence)
    rng = np.random.default_rng(seed)
    batched = getattr(metric, "batched", None)
    if clusters is not None:
        samples = np.array([metric(idx) for idx in _draws(rng, n, n_resamples, clusters)], dtype=float)
    elif batched is not None:
        # The same index draws as the loop below (one (n_resamples, n) draw equals n_resamples
        # draws of n from the same generator), evaluated in one array operation.
        samples = np.asarray(batched(rng.integers(0, n, size=(n_resamples, n))), dtype=float)
    else:
        samples = np.array([metric(rng.integers(0, n, size=n)) for _ in range(n_resamples)], dtype=float)
    return _interval(float(metric(np.arange(n))), samples, confidence)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile interval of a statistic of per-example values.

    Args:
        values: one value per example.
        statistic: reduces resampled values to a number (the mean by default).
        n_resamples: bootstrap resamples.
        confidence: nominal coverage.
        seed: RNG seed.

    Returns:
        The interval.

    Raises:
        ValueError: no values, or see ``bootstrap_metric_ci``.
    """
    data = np.asarray(values, dtype=float)
    return bootstrap_metric_ci(
        lambda idx: float(statistic(data[idx])),
        len(data),
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )


def paired_bootstrap(
    metric_a: Callable[[np.ndarray], float],
    metric_b: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    clusters: Sequence[Hashable] | None = None,
) -> PairedComparison:
    """Compare two prompts on the same ``n`` examples with the same resampled indices.

    Args:
        metric_a: metric of prompt A on the examples at the given indices.
        metric_b: the same for prompt B.
        n: number of shared examples.
        n_resamples: bootstrap resamples.
        confidence: nominal coverage.
        seed: RNG seed.
        clusters: one key per row; rows with the same key are resampled together (None: every row
            is its own cluster).

    Returns:
        The difference A - B with its interval, and how often A was strictly better.

    Raises:
        ValueError: see ``bootstrap_metric_ci``.
    """
    _check(n, n_resamples, confidence)
    rng = np.random.default_rng(seed)
    draws = _draws(rng, n, n_resamples, clusters)
    samples = np.array([metric_a(idx) - metric_b(idx) for idx in draws], dtype=float)
    everything = np.arange(n)
    interval = _interval(float(metric_a(everything) - metric_b(everything)), samples, confidence)
    defined = samples[~np.isnan(samples)]
    return PairedComparison(interval, float(np.mean(defined > 0)) if defined.size else math.nan)
