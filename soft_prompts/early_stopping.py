"""Early stopping on a dev score: the best score, its step, and when patience has run out.

The caller keeps whatever it wants restored (the prompt's tensors): :meth:`EarlyStopping.update` says whether
the new score is the best so far, so the caller snapshots exactly then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EarlyStopping:
    """Tracks dev evaluations (higher is better).

    Attributes:
        patience: evaluations without improvement that stop training (``None``: never stop).
        min_delta: how much a score must beat the best to count as an improvement.
        best_score: best score so far (``None`` before the first evaluation).
        best_step: step of the best score.
        bad_evaluations: evaluations since the last improvement.

    Raises:
        ValueError: ``patience`` below 1, or a negative ``min_delta``.
    """

    patience: int | None = None
    min_delta: float = 0.0
    best_score: float | None = None
    best_step: int = 0
    bad_evaluations: int = 0

    def __post_init__(self) -> None:
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"EarlyStopping.patience: must be >= 1 or None, got {self.patience!r}")
        if self.min_delta < 0:
            raise ValueError(f"EarlyStopping.min_delta: must be >= 0, got {self.min_delta!r}")

    def update(self, step: int, score: float) -> bool:
        """Record the score of the evaluation at ``step``; returns whether it is the new best.

        A NaN score never improves (a diverged prompt must not replace a good one).
        """
        improved = not math.isnan(score) and (
            self.best_score is None or score > self.best_score + self.min_delta
        )
        if improved:
            self.best_score, self.best_step, self.bad_evaluations = score, step, 0
        else:
            self.bad_evaluations += 1
        return improved

    @property
    def should_stop(self) -> bool:
        """Whether patience has run out."""
        return self.patience is not None and self.bad_evaluations >= self.patience
