"""Combining dimensions: the weighted objective, Pareto dominance and the non-dominated front.

The weighted objective works on normalised values (``Dimension.normalize``: [0, 1], 1 is best).
``pareto_front`` works on raw points with an explicit direction per coordinate, so it can be used on
raw metrics as well as on normalised ones (all ``"max"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["dominates", "non_dominated_sort", "pareto_front", "weighted_objective"]


def weighted_objective(normalized: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of normalised dimension values.

    A dimension whose value is ``nan`` (undefined on these examples, e.g. AUROC on a one-class
    minibatch) is left out and the remaining weights are renormalised; the same examples give the
    same undefined dimensions for every candidate, so candidates stay comparable.

    Args:
        normalized: dimension name -> value in [0, 1] (1 is best), or ``nan``.
        weights: dimension name -> non-negative weight; dimensions not listed are ignored.

    Returns:
        A float in [0, 1]; higher is better; ``nan`` when every weighted dimension is undefined.

    Raises:
        ValueError: a weight is negative or not finite, all weights are zero, or a weighted dimension
            is missing from ``normalized``.
    """
    if not weights:
        raise ValueError("weights must name at least one dimension")
    bad = {k: w for k, w in weights.items() if not (math.isfinite(w) and w >= 0)}
    if bad:
        raise ValueError(f"weights must be finite and non-negative, got {bad}")
    if sum(weights.values()) == 0:
        raise ValueError("weights must not all be zero")
    missing = sorted(set(weights) - set(normalized))
    if missing:
        raise ValueError(f"no score for weighted dimensions {missing}; scored: {sorted(normalized)}")
    defined = {k: w for k, w in weights.items() if w > 0 and not math.isnan(normalized[k])}
    total = sum(defined.values())
    if total == 0:
        return math.nan
    return sum(w * normalized[k] for k, w in defined.items()) / total


def _check_directions(directions: Sequence[str], width: int) -> None:
    if len(directions) != width:
        raise ValueError(f"{len(directions)} directions for points with {width} coordinates")
    bad = [d for d in directions if d not in ("max", "min")]
    if bad:
        raise ValueError(f"directions must be 'max' or 'min', got {bad}")


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Whether ``a`` Pareto-dominates ``b``: at least as good everywhere and strictly better somewhere.

    Args:
        a: one point.
        b: another point, same length.
        directions: per coordinate, ``"max"`` or ``"min"``.

    Returns:
        True when ``a`` dominates ``b`` (equal points do not dominate each other).

    Raises:
        ValueError: lengths or directions are wrong, or a coordinate is ``nan``.
    """
    _check_directions(directions, len(a))
    if len(a) != len(b):
        raise ValueError(f"points of different lengths: {len(a)} and {len(b)}")
    strictly = False
    for x, y, direction in zip(a, b, directions, strict=True):
        if math.isnan(x) or math.isnan(y):
            raise ValueError("cannot compare points with nan coordinates")
        if direction == "min":
            x, y = -x, -y
        if x < y:
            return False
        strictly = strictly or x > y
    return strictly


def non_dominated_sort(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[list[int]]:
    """Split points into successive Pareto fronts (NSGA-II's fast non-dominated sort).

    Args:
        points: the points, all with ``len(directions)`` coordinates.
        directions: per coordinate, ``"max"`` or ``"min"``.

    Returns:
        Fronts as lists of point indices in increasing order; front 0 is non-dominated, front 1 is
        non-dominated once front 0 is removed, and so on. Empty input gives ``[]``.

    Raises:
        ValueError: see ``dominates``.
    """
    n = len(points)
    if n:
        _check_directions(directions, len(points[0]))
    dominated_by_me: list[list[int]] = [[] for _ in range(n)]
    times_dominated = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j], directions):
                dominated_by_me[i].append(j)
                times_dominated[j] += 1
            elif dominates(points[j], points[i], directions):
                dominated_by_me[j].append(i)
                times_dominated[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(n) if times_dominated[i] == 0]
    while current:
        fronts.append(sorted(current))
        following = []
        for i in current:
            for j in dominated_by_me[i]:
                times_dominated[j] -= 1
                if times_dominated[j] == 0:
                    following.append(j)
        current = following
    return fronts


def pareto_front(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the non-dominated points.

    Args:
        points: the points, e.g. ``[(accuracy, ece), ...]``.
        directions: per coordinate, e.g. ``["max", "min"]``.

    Returns:
        Indices of the points no other point dominates, in increasing order (duplicates of a
        non-dominated point are all kept).

    Raises:
        ValueError: see ``dominates``.
    """
    fronts = non_dominated_sort(points, directions)
    return fronts[0] if fronts else []
