"""How a round's candidates are split between the operators (``search.reflection``, ``merge``,
``edits``; fresh writing takes the rest).

Rounding each round's share alone drops small shares for good: ``round(4 x 0.1) = 0`` every round, so
``merge: 0.1`` at 4 candidates per round never merged (issue 22). Instead each operator gets, by the
end of round ``r``, ``floor(share x size x r)`` candidates: its expected count, carried across rounds
(0.1 x 4 gives one merge in rounds 3, 5, 8, 10, ...: one every 2.5 rounds), deterministically, so a
resumed run allocates the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["operator_counts"]

_EPSILON = 1e-9  # 0.3 x 10 is 2.9999999999999996 in floating point


def operator_counts(shares: Mapping[str, float], size: int, iteration: int) -> dict[str, int]:
    """Candidates each operator writes in round ``iteration`` (1-based) of ``size`` candidates.

    Args:
        shares: operator -> share of the candidates (shares sum to at most 1).
        size: candidates in this round.
        iteration: the round's number within its stage.

    Returns:
        operator -> count, in the order of ``shares``; the counts sum to at most ``size`` (an operator
        listed later gets fewer when rounding would overfill the round).
    """
    counts: dict[str, int] = {}
    room = size
    for name, share in shares.items():
        due = math.floor(share * size * iteration + _EPSILON) - math.floor(
            share * size * (iteration - 1) + _EPSILON
        )
        counts[name] = max(0, min(room, due))
        room -= counts[name]
    return counts
