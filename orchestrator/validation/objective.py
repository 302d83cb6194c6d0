"""Checks on ``objective.*`` at load: every weight and order name is a dimension this campaign can
measure with its scorer, tasks and judge; weights are finite, non-negative and not all zero."""

from __future__ import annotations

import difflib
import math

from evaluators.dimensions import STANDARD_DIMENSIONS
from evaluators.judges import DEFAULT_JUDGES
from evaluators.task import CALIBRATION_METRICS
from orchestrator.config import Campaign
from orchestrator.validation.locate import Location
from orchestrator.validation.scorer import label_probabilities

__all__ = ["KNOWN_DIMENSIONS", "check_objective", "unmeasurable_dimensions"]

#: Every dimension name an objective may use (judged ones only with their judge configured).
KNOWN_DIMENSIONS = (*STANDARD_DIMENSIONS, *(f"judge_{name}" for name in DEFAULT_JUDGES))


def check_objective(campaign: Campaign, where: Location) -> None:
    """Refuse an objective that would optimise nothing or crash at run start.

    Raises:
        ConfigError: an unknown judge dimension, a bad weight, an unknown or unmeasurable name.
    """
    objective = campaign.objective
    for index, name in enumerate(objective.judge_dimensions):
        if name not in DEFAULT_JUDGES:
            raise where.error(("objective", "judge_dimensions", index), _unknown(name, list(DEFAULT_JUDGES)))
    weights_loc = ("objective", "weights")
    for name, weight in objective.weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise where.error((*weights_loc, name), f"weight must be a finite number >= 0 (got {weight})")
    if not any(weight > 0 for weight in objective.weights.values()):
        raise where.error(weights_loc, "at least one weight must be positive")
    missing = unmeasurable_dimensions(campaign)
    # Default weights may name a dimension this scorer cannot give (ECE without probabilities): it is
    # then left out of the objective, as documented; names the user wrote must all count.
    written = "weights" in objective.model_fields_set
    for name, weight in objective.weights.items():
        if name not in KNOWN_DIMENSIONS:
            raise where.error((*weights_loc, name), _unknown_dimension(name))
        if name in missing and written and weight > 0:
            raise where.error((*weights_loc, name), _unmeasurable(name, missing[name]))
    order_loc = ("objective", "lexicographic_order")
    lexicographic = objective.acceptance == "lexicographic"
    seen: set[str] = set()
    for index, name in enumerate(objective.lexicographic_order):
        if name not in KNOWN_DIMENSIONS:
            raise where.error((*order_loc, index), _unknown_dimension(name))
        if name in missing and lexicographic:
            raise where.error((*order_loc, index), _unmeasurable(name, missing[name]))
        if name in seen:
            raise where.error((*order_loc, index), f"{name!r} is listed twice")
        seen.add(name)
    if lexicographic and not objective.lexicographic_order:
        raise where.error(order_loc, "lexicographic acceptance needs at least one dimension")


def unmeasurable_dimensions(campaign: Campaign) -> dict[str, str]:
    """Known dimensions this campaign cannot measure -> why (completing "it ..."); the rest can be."""
    tasks = [*campaign.tasks.source, campaign.tasks.target]
    labelled = any(not task.free_form for task in tasks)
    free_form = any(task.free_form for task in tasks)
    probabilities, no_probabilities_reason = label_probabilities(campaign)
    generated = free_form or not probabilities
    out: dict[str, str] = {}
    if not labelled:
        for name in ("accuracy", "macro_f1", *CALIBRATION_METRICS):
            out[name] = "needs a task with a label set, and every task here is free_form"
    elif not probabilities:
        for name in CALIBRATION_METRICS:
            out[name] = f"needs label probabilities, and {no_probabilities_reason}"
    if not free_form:
        out["exact_match"] = "is measured on free_form tasks only; these tasks have label sets (use accuracy)"
    if not generated:
        out["instruction_following"] = (
            "needs generated answers, and this scorer scores labels by log-probabilities instead"
        )
    judged = set(campaign.objective.judge_dimensions)
    for name in DEFAULT_JUDGES:
        if name not in judged:
            out[f"judge_{name}"] = f"is measured only with objective.judge_dimensions: [{name}]"
    return out


def _unmeasurable(name: str, reason: str) -> str:
    return f"{name!r} cannot be measured in this campaign: it {reason}"


def _unknown_dimension(name: str) -> str:
    if name in DEFAULT_JUDGES:
        return f"unknown dimension {name!r} (did you mean 'judge_{name}'?)"
    return _unknown(name, list(KNOWN_DIMENSIONS), what="dimension")


def _unknown(name: str, known: list[str], what: str = "judge dimension") -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return f"unknown {what} {name!r} ({hint})"
