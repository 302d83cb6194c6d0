"""Constant and degenerate predictors: a prompt that gives (nearly) one answer whatever the input.

Such a prompt scores the share of that label, which on an unbalanced split can look like a good
accuracy; it has learnt nothing about the task. ``dominant_answer`` finds it so reports can say so:
"answers 'non-entailment' for 58/60".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["DEGENERATE_SHARE", "DominantAnswer", "dominant_answer"]

#: A contender giving one answer for at least this share of the examples is flagged.
DEGENERATE_SHARE = 0.9


@dataclass(frozen=True)
class DominantAnswer:
    """The answer a degenerate predictor gives.

    Attributes:
        label: the answer (``None``: no parsable answer).
        count: examples given that answer.
        n: examples scored.
    """

    label: Hashable | None
    count: int
    n: int

    @property
    def text(self) -> str:
        """``"answers 'x' for 58/60"`` (or ``"gives no parsable answer for 58/60"``)."""
        if self.label is None:
            return f"gives no parsable answer for {self.count}/{self.n}"
        return f"answers {str(self.label)!r} for {self.count}/{self.n}"


def dominant_answer(
    predictions: Sequence[Hashable | None], *, share: float = DEGENERATE_SHARE
) -> DominantAnswer | None:
    """The answer given for at least ``share`` of the examples, or None when there is none.

    Args:
        predictions: one answer per example (``None`` = unparsable, counted as an answer of its own).
        share: the flagging threshold in (0, 1].

    Returns:
        The dominant answer, or None (also for an empty sequence).

    Raises:
        ValueError: ``share`` outside (0, 1].
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    if not predictions:
        return None
    label, count = Counter(predictions).most_common(1)[0]
    n = len(predictions)
    return DominantAnswer(label, count, n) if count / n >= share - 1e-12 else None
