"""The search state: JSON-serialisable values only, so every checkpoint can be read back.

A candidate is a dict::

    {"id": str, "prompt": str, "stage": "source" | "target", "iteration": int,
     "origin": "baseline" | "proposed" | "reflected" | "merged" | "edited" | "demos" | "promoted",
     "scores": {dimension: raw value, averaged over the stage's tasks},
     "normalized": {dimension: value in [0, 1], higher is better},
     "per_task": {task: {"scores": {...}, "objective": float, "wrong": [example index, ...], "n": int}},
     "objective": float, "accepted": bool}
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

Stage = Literal["source", "target"]


class SearchState(TypedDict, total=False):
    stage: Stage
    iteration: int
    history: list[dict[str, Any]]  # every scored candidate of both stages, in scoring order
    proposals: list[str]  # raw candidate prompts from the reference LLM this round
    proposal_origins: list[str]  # the operator that wrote each proposal (a candidate's "origin")
    round_written: bool  # the next round's proposals were written early (stage 1's overlapped round 1)
    pending: list[dict[str, Any]]  # [{"prompt", "origin"}] to score this round
    scored: list[dict[str, Any]]  # candidates scored this round, not yet in history
    rejected: dict[str, str]  # proposals the filter dropped this round, with reasons
    front: list[str]  # ids on the current stage's Pareto front
    best: dict[str, str]  # stage -> id of its best candidate
    stale: int  # rounds without improvement in the current stage
    stage_stop: dict[str, str]  # stage -> why it stopped
    final: dict[str, Any]  # finalists confirmed outside the minibatch, the winner, held-out test scores
    soft: dict[str, Any]  # the soft-prompt stage's plan and what it has trained (or why it was skipped)
    soft_report: dict[str, Any]  # curves, gate, similarity, final comparison (the report's "soft")


def stage_history(state: SearchState, stage: str) -> list[dict[str, Any]]:
    return [c for c in state.get("history", []) if c["stage"] == stage]


def by_id(state: SearchState, stage: str, candidate_id: str) -> dict[str, Any]:
    for cand in state.get("history", []):
        if cand["id"] == candidate_id and cand["stage"] == stage:
            return cand
    raise KeyError(f"{stage}/{candidate_id}")
