"""Errors the evaluator raises, and the failure counter that enforces ``max_errors``.

A failure is a scoring step that could not produce a real score: the scorer or judge LLM raised,
or a judge still answered malformed JSON after one re-ask. Each scores its dimension's
``failure_score`` and is counted; at ``max_errors`` failures the evaluation stops with
``TooManyErrors``, because a score built mostly from failure scores would teach the optimiser that
an outage is a bad prompt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["EvaluationError", "FailureCounter", "TooManyErrors"]


class EvaluationError(Exception):
    """Base of the errors the evaluator raises."""


class TooManyErrors(EvaluationError):
    """``max_errors`` failures were reached; the evaluation was stopped.

    Attributes:
        count: failures counted.
        max_errors: the limit.
        by_kind: failures per kind, e.g. ``{"judge_malformed": 2, "scorer_error": 1}``.
        last: description of the failure that reached the limit.
    """

    def __init__(self, count: int, max_errors: int, by_kind: dict[str, int], last: str):
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(by_kind.items()))
        super().__init__(
            f"evaluation stopped: {count} failures reached max_errors={max_errors} ({kinds}); last: {last}"
        )
        self.count = count
        self.max_errors = max_errors
        self.by_kind = dict(by_kind)
        self.last = last


@dataclass
class FailureCounter:
    """Counts failures of one evaluation and raises at the limit.

    Attributes:
        max_errors: failures that stop the evaluation (the limit-th failure raises); ``None`` never stops.
        by_kind: failures so far, per kind.
    """

    max_errors: int | None = None
    by_kind: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.max_errors is not None and self.max_errors < 1:
            raise ValueError(f"max_errors must be >= 1 or None, got {self.max_errors}")

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def record(self, kind: str, detail: str) -> None:
        """Count one failure.

        Args:
            kind: a short code, e.g. ``"scorer_error"`` or ``"judge_malformed"``.
            detail: what happened, for the error message.

        Raises:
            TooManyErrors: this failure reaches ``max_errors``.
        """
        self.by_kind[kind] += 1
        if self.max_errors is not None and self.total >= self.max_errors:
            raise TooManyErrors(self.total, self.max_errors, dict(self.by_kind), detail)
