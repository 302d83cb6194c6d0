"""Racing: screen each new candidate on a few examples; only those still in contention get the rest.

A candidate is dropped after screening only when the upper end of its Wilson interval on
accuracy (pooled over the stage's tasks) lies below the lower end of the leader's interval on its
full minibatch (both at ``search.racing_confidence``, 95% by default): however the remaining
examples go, it is unlikely to catch up. A candidate whose
interval overlaps the leader's is never dropped. Racing reads per-example correctness (accuracy);
the objective's other dimensions are computed on whatever examples a candidate was scored on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

__all__ = ["Interval", "accuracy_interval", "still_in_contention", "wilson_interval"]

Z_95 = 1.959963984540054

Interval = tuple[float, float]


def wilson_interval(correct: int, n: int, z: float = Z_95) -> Interval:
    """Wilson score interval of a proportion ``correct / n``; ``(0, 1)`` when ``n == 0``.

    Args:
        correct: successes, ``0 <= correct <= n``.
        n: trials.
        z: the normal quantile (1.96 for 95%).

    Returns:
        ``(low, high)`` with ``0 <= low <= correct / n <= high <= 1``.
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be in [0, {n}], got {correct}")
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def accuracy_interval(per_task: Mapping[str, Mapping[str, Any]], confidence: float = 0.95) -> Interval:
    """The Wilson interval of a candidate's accuracy pooled over its tasks' results
    (each ``{"n": examples, "wrong": [index, ...]}``), at two-sided ``confidence``."""
    n = sum(int(r["n"]) for r in per_task.values())
    correct = n - sum(len(r["wrong"]) for r in per_task.values())
    return wilson_interval(correct, n, NormalDist().inv_cdf((1 + confidence) / 2))


def still_in_contention(candidate: Interval, leader: Interval) -> bool:
    """Whether a screened candidate deserves the rest of the minibatch: its interval reaches the
    leader's (``candidate.high >= leader.low``)."""
    return candidate[1] >= leader[0]
