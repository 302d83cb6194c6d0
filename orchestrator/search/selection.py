"""Aggregating a candidate's scores over tasks, acceptance, the Pareto front and the stage's best."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evaluators.acceptance import AcceptancePolicy, accept, best_index
from evaluators.objective import pareto_front
from orchestrator.config import ObjectiveConfig
from orchestrator.json_safe import finite_or_none

__all__ = ["acceptance_policy", "aggregate", "choose_best", "mark_accepted", "pareto_ids"]


def acceptance_policy(objective: ObjectiveConfig) -> AcceptancePolicy:
    return AcceptancePolicy(
        kind=objective.acceptance, weights=objective.weights, order=objective.lexicographic_order
    )


def _mean(values: Sequence[float]) -> float:
    defined = [v for v in values if v is not None and not math.isnan(v)]
    return sum(defined) / len(defined) if defined else math.nan


def aggregate(
    per_task: Mapping[str, Mapping[str, Any]],
    objective: Callable[[Mapping[str, float]], float],
) -> dict[str, Any]:
    """A candidate's scores over several tasks: the mean of each dimension.

    Stage 1 rates a prompt by this aggregate, so a prompt must work across the source tasks to win.

    Returns:
        ``{"scores", "normalized", "objective", "per_task"}``; ``per_task`` gains each task's objective.
    """
    names = sorted({name for result in per_task.values() for name in result["normalized"]})
    scores = {n: _mean([r["scores"].get(n, math.nan) for r in per_task.values()]) for n in names}
    normalized = {n: _mean([r["normalized"].get(n, math.nan) for r in per_task.values()]) for n in names}

    def rated(values: Mapping[str, float]) -> float:
        # An objective nothing could be measured for ranks as 0, not as nan (which sorts anywhere).
        return finite_or_none(objective(values)) or 0.0

    tasks = {task: {**r, "objective": rated(r["normalized"])} for task, r in per_task.items()}
    return {
        "scores": scores,
        "normalized": normalized,
        "objective": rated(normalized),
        "per_task": tasks,
    }


def _point(candidate: Mapping[str, Any], policy: AcceptancePolicy) -> dict[str, float]:
    """Normalised scores with every dimension the policy reads (``nan`` where this scorer gives none,
    e.g. ECE without probabilities), so policies skip what is undefined instead of failing."""
    return {**{name: math.nan for name in (*policy.weights, *policy.order)}, **candidate["normalized"]}


def mark_accepted(
    scored: Sequence[Mapping[str, Any]],
    previous: Sequence[Mapping[str, Any]],
    objective: ObjectiveConfig,
    dimensions: Sequence[str],
) -> list[dict[str, Any]]:
    """Decide, in order, whether each new candidate is accepted against the stage's current pool.

    ``pareto`` compares with the current front, the others with every accepted incumbent.
    """
    policy = acceptance_policy(objective)
    pool = [dict(c) for c in previous if c.get("accepted")]
    out = []
    for cand in scored:
        if policy.kind == "pareto" and pool:
            front = [pool[i] for i in pareto_ids_index(pool, policy.dimensions)]
        else:
            front = pool
        if cand.get("screened_out"):
            out.append({**cand, "accepted": False, "decision": "screened out: measured on its screen only"})
            continue
        decision = accept(_point(cand, policy), [_point(c, policy) for c in front], policy)
        marked = {**cand, "accepted": decision.accepted, "decision": decision.reason}
        out.append(marked)
        if decision.accepted:
            pool.append(marked)
    return out


def choose_best(candidates: Sequence[Mapping[str, Any]], objective: ObjectiveConfig) -> Mapping[str, Any]:
    """The stage's best candidate under the campaign's policy."""
    policy = acceptance_policy(objective)
    return candidates[best_index([_point(c, policy) for c in candidates], policy)]


def pareto_ids_index(candidates: Sequence[Mapping[str, Any]], dimensions: Sequence[str]) -> list[int]:
    """Indices of the non-dominated candidates on normalised ``dimensions`` (undefined ones left out)."""
    names = [
        d
        for d in dimensions
        if all(d in c["normalized"] and not math.isnan(c["normalized"][d]) for c in candidates)
    ]
    if not names or not candidates:
        return list(range(len(candidates)))
    points = [[c["normalized"][d] for d in names] for c in candidates]
    return sorted(pareto_front(points, ["max"] * len(names)))


def pareto_ids(candidates: Sequence[Mapping[str, Any]], dimensions: Sequence[str]) -> list[str]:
    return [candidates[i]["id"] for i in pareto_ids_index(candidates, dimensions)]
