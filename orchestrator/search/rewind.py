"""Where a resumed run with a larger call budget picks up its search again.

A budget too small for another round ends a stage's exploration (``nodes.budget_stop``): the graph
moves on to promotion or to the finalists, and its checkpoints record that. Resuming from the last
checkpoint with a larger budget would then only finish the end of the run, never search. So the
resume goes back to the checkpoint just before that stage's last ``select`` and replays from there:
``select`` runs again on the same state (its store rows are keyed, so nothing is written twice), and
its router decides afresh with the budget now available. Later checkpoints stay in the history as a
branch; the newest one is what a later resume reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["budget_stopped_stage", "rewind_config"]

STAGES = ("source", "target")


def budget_stopped_stage(values: Mapping[str, Any]) -> str | None:
    """The first stage whose exploration the call budget ended, or None."""
    stops = values.get("stage_stop") or {}
    return next((stage for stage in STAGES if str(stops.get(stage, "")).startswith("budget")), None)


async def rewind_config(graph: Any, thread: Mapping[str, Any]) -> dict[str, Any] | None:
    """The run config that replays the budget-stopped stage's last ``select`` (None: nothing to redo).

    Args:
        graph: the compiled search graph with the run's checkpointer.
        thread: the run's config (``{"configurable": {"thread_id": run_id}, ...}``).
    """
    latest = await graph.aget_state(thread)
    stage = budget_stopped_stage(latest.values or {})
    if stage is None or (latest.values or {}).get("final", {}).get("test"):
        return None
    async for snapshot in graph.aget_state_history(thread):
        if snapshot.next == ("select",) and snapshot.values.get("stage") == stage:
            return {**thread, "configurable": {**thread["configurable"], **snapshot.config["configurable"]}}
    return None
