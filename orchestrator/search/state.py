"""The search state: defined with the context both stages share, in ``orchestrator.graph_state``."""

from __future__ import annotations

from orchestrator.graph_state import SearchState, Stage, by_id, stage_history

__all__ = ["SearchState", "Stage", "by_id", "stage_history"]
