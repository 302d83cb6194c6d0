"""A scored dimension of a prompt: its name, direction, range and how it maps onto [0, 1].

Every number the evaluator reports lives in its own units (accuracy in [0, 1], ECE in [0, 1] where lower
is better, a judge score in [1, 5]). A ``Dimension`` declares those units once so the objective, the
Pareto front and the acceptance policies can compare dimensions on one scale: normalised, 1 is best.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["Dimension", "STANDARD_DIMENSIONS", "Direction", "judge_dimension"]

Direction = Literal["max", "min"]


@dataclass(frozen=True)
class Dimension:
    """One dimension of the objective.

    Attributes:
        name: identifier used in reports and weights, e.g. ``"accuracy"`` or ``"judge_clarity"``.
        direction: ``"max"`` when larger raw values are better, ``"min"`` when smaller are.
        low: smallest raw value the dimension can take.
        high: largest raw value the dimension can take.
        failure_score: raw value recorded for an example whose scoring failed (an LLM error or an
            unparsable judge answer); ``None`` when failures cannot happen for this dimension.
        description: one line for reports.
    """

    name: str
    direction: Direction
    low: float
    high: float
    failure_score: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Dimension.name must be non-empty")
        if self.direction not in ("max", "min"):
            raise ValueError(
                f"Dimension {self.name!r}: direction must be 'max' or 'min', got {self.direction!r}"
            )
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(
                f"Dimension {self.name!r}: need finite low < high, got [{self.low}, {self.high}]"
            )
        if self.failure_score is not None and not self.low <= self.failure_score <= self.high:
            raise ValueError(
                f"Dimension {self.name!r}: failure_score {self.failure_score} "
                f"outside [{self.low}, {self.high}]"
            )

    def normalize(self, value: float) -> float:
        """Map a raw value onto [0, 1] where 1 is best.

        Values outside ``[low, high]`` are clipped (floating-point noise, never a real excursion).
        ``nan`` (an undefined metric, e.g. AUROC on one class) stays ``nan``.

        Args:
            value: the raw value in the dimension's own units.

        Returns:
            The normalised value in [0, 1], or ``nan``.
        """
        if math.isnan(value):
            return math.nan
        scaled = (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)
        return scaled if self.direction == "max" else 1.0 - scaled

    def better(self, a: float, b: float) -> bool:
        """Whether raw value ``a`` is strictly better than raw value ``b`` on this dimension."""
        return a > b if self.direction == "max" else a < b


def judge_dimension(
    name: str, *, low: int = 1, high: int = 5, failure_score: float | None = None
) -> Dimension:
    """A dimension for an LLM judge's integer score; by default the lowest score is the failure score.

    Args:
        name: the judged quality, e.g. ``"clarity"``; the dimension is named ``"judge_<name>"``.
        low: lowest score the rubric allows.
        high: highest score the rubric allows.
        failure_score: raw score recorded when the judge fails; defaults to ``low``.

    Returns:
        The judge's ``Dimension`` (direction ``"max"``).
    """
    return Dimension(
        name=f"judge_{name}",
        direction="max",
        low=float(low),
        high=float(high),
        failure_score=float(low) if failure_score is None else failure_score,
        description=f"LLM judge: {name} ({low}-{high})",
    )


def _standard() -> dict[str, Dimension]:
    dims = [
        Dimension("accuracy", "max", 0.0, 1.0, 0.0, "share of examples answered correctly"),
        Dimension(
            "balanced_accuracy", "max", 0.0, 1.0, 0.0, "unweighted mean of per-label recall (chance: 1/k)"
        ),
        Dimension("macro_f1", "max", 0.0, 1.0, 0.0, "unweighted mean of per-label F1"),
        Dimension("exact_match", "max", 0.0, 1.0, 0.0, "share of normalised answers equal to a reference"),
        Dimension("ece", "min", 0.0, 1.0, None, "top-label expected calibration error"),
        Dimension("brier", "min", 0.0, 1.0, None, "Brier score (binary; multiclass range is [0, 2])"),
        Dimension("auroc", "max", 0.0, 1.0, None, "area under the ROC curve (one-vs-rest macro)"),
        Dimension("auprc_pos", "max", 0.0, 1.0, None, "average precision, positive class (PR-P)"),
        Dimension("auprc_neg", "max", 0.0, 1.0, None, "average precision, negative class (PR-N)"),
        Dimension("instruction_following", "max", 0.0, 1.0, 0.0, "share of outputs keeping the contract"),
    ]
    dims += [judge_dimension(n) for n in ("coherence", "relevance", "fluency", "clarity", "specificity")]
    return {d.name: d for d in dims}


#: Read-only catalogue of the dimensions the evaluator computes; the multiclass Brier dimension is
#: built per task by the evaluator because its range depends on the number of labels.
STANDARD_DIMENSIONS = MappingProxyType(_standard())
