"""The run's answer at any point: the best prompt so far, its scores, and how they were measured.

A finished run answers with the confirmed winner and its held-out test scores; a run stopped by a
budget, a time limit, a stop file or Ctrl-C answers with the best it had measured when it stopped,
and says how much that measurement is worth (a minibatch score is biased upwards by the selection;
a confirmation on fresh dev examples is not; only the held-out test is a final verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["best_so_far"]


def best_so_far(state: Mapping[str, Any]) -> dict[str, Any] | None:
    """The best prompt in a (possibly partial) search state, or None when nothing was scored yet.

    Returns:
        ``{"prompt", "id", "stage", "objective", "scores", "measured", "confirmed", "tested"}``;
        ``measured`` is one line, e.g. ``"minibatch of 20 examples of the target task; not confirmed
        on dev; no held-out test"``.
    """
    final = state.get("final") or {}
    winner = final.get("winner")
    if winner:
        confirmed = bool(winner.get("confirmed", True))
        how = (
            f"chosen on {final.get('n', '?')} dev examples outside the selection minibatch"
            if confirmed
            else f"chosen on the selection minibatch ({final.get('note', 'not confirmed')})"
        )
        test = (final.get("test") or {}).get("winner")
        if test:
            n_test = _examples(test)
            return _row(winner, "target", test, f"{how}; held-out test of {n_test} examples", confirmed, True)
        return _row(winner, "target", winner, f"{how}; no held-out test", confirmed, False)
    history = state.get("history") or []
    for stage in ("target", "source"):
        best_id = (state.get("best") or {}).get(stage)
        cand = next((c for c in history if c["stage"] == stage and c["id"] == best_id), None)
        if cand is None:
            continue
        n = _examples(cand)
        where = (
            f"minibatch of {n} examples of the target task"
            if stage == "target"
            else f"minibatch of {n} examples on each of {len(cand['per_task'])} source tasks (not the target)"
        )
        return _row(cand, stage, cand, f"{where}; not confirmed on dev; no held-out test", False, False)
    return None


def _examples(row: Mapping[str, Any]) -> int:
    counts = [r.get("n", 0) for r in (row.get("per_task") or {}).values()]
    return min(counts) if counts else 0


def _row(
    cand: Mapping[str, Any],
    stage: str,
    scored: Mapping[str, Any],
    measured: str,
    confirmed: bool,
    tested: bool,
) -> dict[str, Any]:
    return {
        "prompt": cand["prompt"],
        "id": cand.get("id"),
        "stage": stage,
        "objective": scored.get("objective"),
        "scores": dict(scored.get("scores") or {}),
        "measured": measured,
        "confirmed": confirmed,
        "tested": tested,
    }
