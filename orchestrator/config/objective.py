"""How candidates are scored and accepted: objective weights and acceptance rule."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from orchestrator.config.strict import _Strict


class ObjectiveConfig(_Strict):
    """How candidates are scored and accepted."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {"balanced_accuracy": 1.0, "ece": 0.25},
        description="Weight per dimension in the weighted objective (dimensions normalised to [0, 1]).",
    )
    acceptance: Literal["weighted", "pareto", "lexicographic"] = Field(
        "weighted", description="Which candidates enter the pool of parents."
    )
    lexicographic_order: list[str] = Field(
        default_factory=lambda: ["balanced_accuracy", "ece"],
        description="Dimension order for 'lexicographic'.",
    )
    judge_dimensions: list[str] = Field(
        default_factory=list, description="LLM-judged dimensions (needs models.judge)."
    )
