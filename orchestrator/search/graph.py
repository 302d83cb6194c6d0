"""The discrete search's routers; ``orchestrator.graph`` wires them, the search nodes and the soft
stage's nodes into one ``StateGraph``."""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from orchestrator.search import nodes
from orchestrator.search.context import SearchContext
from orchestrator.search.state import SearchState

__all__ = ["route_after_filter", "route_after_init", "route_after_select"]


def route_after_init(
    state: SearchState, runtime: Runtime[SearchContext]
) -> Literal["score", "score_and_propose"]:
    """Overlap stage 1's first proposals with the baselines' scoring when the campaign allows it."""
    search = runtime.context.campaign.search
    overlap = search.overlap_first_round and search.stage1_iterations > 0
    return "score_and_propose" if overlap else "score"


def route_after_select(
    state: SearchState, runtime: Runtime[SearchContext]
) -> Literal["filter", "propose", "promote", "final_dev"]:
    """Score a round already written (the overlapped round 1) unless the target score is reached;
    loop while the stage has budget left; then promote (stage 1) or finish (stage 2)."""
    ctx = runtime.context
    if (
        state.get("round_written")
        and not nodes.target_reached(state, ctx)
        and not nodes.budget_stop(state, ctx)
    ):
        return "filter"
    if nodes.stop_reason(state, runtime.context) is None:
        return "propose"
    return "promote" if state["stage"] == "source" else "final_dev"


def route_after_filter(state: SearchState) -> Literal["score", "select"]:
    """Skip scoring when the filter left nothing (the round still counts against patience)."""
    return "score" if state.get("pending") else "select"
