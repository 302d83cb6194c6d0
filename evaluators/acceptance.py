"""Acceptance policies: does a new candidate prompt earn a place against the incumbents?

All policies compare normalised dimension values ([0, 1], 1 is best; see ``Dimension.normalize``).

- ``weighted``: accept when the candidate's weighted objective beats the best incumbent's by more than
  ``min_improvement``. One number, like OPRO and COPRO.
- ``pareto``: accept when no incumbent dominates the candidate on the policy's dimensions. A prompt
  that trades a little accuracy for much better calibration is kept, where ``weighted`` may drop it.
- ``lexicographic``: compare dimension by dimension in priority order; a difference within
  ``tolerance`` is a tie that passes to the next dimension; accept when the candidate beats every incumbent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evaluators.objective import dominates, weighted_objective

__all__ = ["AcceptancePolicy", "Decision", "accept", "best_index", "lexicographic_compare"]


class AcceptancePolicy(BaseModel):
    """How candidates are accepted and the best one chosen (embeddable in a campaign config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["weighted", "pareto", "lexicographic"] = Field(
        "weighted", description="acceptance rule: weighted objective, Pareto non-dominance, or priority order"
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: {"accuracy": 1.0},
        description="dimension -> weight of the weighted objective (also the dimensions 'pareto' compares)",
    )
    order: list[str] = Field(
        default_factory=lambda: ["accuracy"], description="dimensions by priority, for 'lexicographic'"
    )
    tolerance: float = Field(
        0.01, ge=0, le=1, description="normalised difference treated as a tie (lexicographic)"
    )
    min_improvement: float = Field(0.0, ge=0, le=1, description="margin a candidate must win by (weighted)")

    @model_validator(mode="after")
    def _check(self) -> AcceptancePolicy:
        if not self.weights or any(not (math.isfinite(w) and w >= 0) for w in self.weights.values()):
            raise ValueError("weights: give at least one dimension, each with a finite weight >= 0")
        if sum(self.weights.values()) == 0:
            raise ValueError("weights: must not all be zero")
        if self.kind == "lexicographic" and not self.order:
            raise ValueError("order: lexicographic acceptance needs at least one dimension")
        if len(set(self.order)) != len(self.order):
            raise ValueError(f"order: dimensions repeat: {self.order}")
        return self

    @property
    def dimensions(self) -> list[str]:
        """The dimensions this policy reads."""
        if self.kind == "lexicographic":
            return list(self.order)
        return sorted(k for k, w in self.weights.items() if w > 0)


@dataclass(frozen=True)
class Decision:
    """An acceptance decision and why, for the run log.

    Attributes:
        accepted: whether the candidate is accepted.
        reason: one line naming the deciding numbers.
    """

    accepted: bool
    reason: str


def _values(point: Mapping[str, float], names: Sequence[str], who: str) -> list[float]:
    missing = [n for n in names if n not in point]
    if missing:
        raise ValueError(f"{who} has no score for {missing}; scored: {sorted(point)}")
    return [point[n] for n in names]


def lexicographic_compare(
    a: Mapping[str, float], b: Mapping[str, float], order: Sequence[str], tolerance: float
) -> int:
    """Compare two normalised points by priority order with a tie tolerance.

    Args:
        a: dimension -> normalised value.
        b: dimension -> normalised value.
        order: dimensions by priority.
        tolerance: differences of at most this much are ties (``nan`` on either side is a tie too).

    Returns:
        1 when ``a`` wins, -1 when ``b`` wins, 0 when they tie on every dimension.
    """
    for x, y in zip(_values(a, order, "candidate"), _values(b, order, "incumbent"), strict=True):
        if math.isnan(x) or math.isnan(y) or abs(x - y) <= tolerance:
            continue
        return 1 if x > y else -1
    return 0


def accept(
    candidate: Mapping[str, float], incumbents: Sequence[Mapping[str, float]], policy: AcceptancePolicy
) -> Decision:
    """Decide whether ``candidate`` is accepted against ``incumbents`` (the pool or its Pareto front).

    Args:
        candidate: dimension -> normalised value of the new candidate.
        incumbents: the same for each incumbent; with none, the candidate is accepted.
        policy: the acceptance policy.

    Returns:
        The decision.

    Raises:
        ValueError: a point lacks a dimension the policy reads.
    """
    if not incumbents:
        return Decision(True, "no incumbents")
    if policy.kind == "weighted":
        mine = weighted_objective(candidate, policy.weights)
        best = max(weighted_objective(p, policy.weights) for p in incumbents)
        won = mine > best + policy.min_improvement
        return Decision(won, f"weighted objective {mine:.4f} vs best incumbent {best:.4f}")
    if policy.kind == "pareto":
        names = [n for n in policy.dimensions if not _undefined(n, candidate, incumbents)]
        mine_values = _values(candidate, names, "candidate")
        for index, incumbent in enumerate(incumbents):
            if dominates(_values(incumbent, names, "incumbent"), mine_values, ["max"] * len(names)):
                return Decision(False, f"dominated by incumbent {index} on {names}")
        return Decision(True, f"no incumbent dominates it on {names}")
    for index, incumbent in enumerate(incumbents):
        if lexicographic_compare(candidate, incumbent, policy.order, policy.tolerance) <= 0:
            return Decision(False, f"does not beat incumbent {index} in order {policy.order}")
    return Decision(True, f"beats every incumbent in order {policy.order}")


def _undefined(name: str, candidate: Mapping[str, float], incumbents: Sequence[Mapping[str, float]]) -> bool:
    # An undefined dimension (nan) carries no information for dominance; it is left out for everyone.
    return any(name in p and math.isnan(p[name]) for p in (candidate, *incumbents))


def best_index(points: Sequence[Mapping[str, float]], policy: AcceptancePolicy) -> int:
    """Index of the best point under a policy (to name a winner).

    ``weighted`` and ``pareto`` take the highest weighted objective (for ``pareto`` that point is on the
    front: the policy's dimensions are those with positive weight, so a dominating point scores higher);
    ``lexicographic`` scans in order and moves to a later point only when it beats the current best,
    so ties keep the earlier point.

    Args:
        points: dimension -> normalised value, per candidate.
        policy: the policy.

    Returns:
        The index of the best point.

    Raises:
        ValueError: no points, or a point lacks a dimension the policy reads.
    """
    if not points:
        raise ValueError("best_index needs at least one point")
    if policy.kind in ("weighted", "pareto"):
        scores = [weighted_objective(p, policy.weights) for p in points]
        return max(range(len(points)), key=lambda i: (-math.inf if math.isnan(scores[i]) else scores[i], -i))
    best = 0
    for i in range(1, len(points)):
        if lexicographic_compare(points[i], points[best], policy.order, policy.tolerance) > 0:
            best = i
    return best
