"""A stage whose proposals are all filtered out round after round has nothing new to score: it stops
after ``MAX_EMPTY_ROUNDS`` such rounds instead of spinning empty rounds (and checkpoints) up to its
round cap (``MAX_BUDGET_ROUNDS`` under budget-driven rounds)."""

from __future__ import annotations

from orchestrator.runner import optimize_async
from orchestrator.search.plan import MAX_EMPTY_ROUNDS
from orchestrator.store import RunStore
from tests import simulated_llm
from tests.test_search_loop import _campaign

BASELINE = "You are an assistant."


def _proposes_only_the_baseline(body):
    """The simulated LLM, except that as the reference it only ever proposes the baseline again."""
    messages = body.get("messages") or []
    if messages and "<prompt>" in str(messages[-1].get("content")):
        return simulated_llm.Reply(text=f"<prompt>{BASELINE}</prompt>")
    return simulated_llm.respond(body)


async def test_a_stage_with_nothing_new_to_score_stops_after_max_empty_rounds(tmp_path, sim_server):
    sim_server.script.reset(_proposes_only_the_baseline)
    campaign = _campaign(tmp_path, sim_server, stage1_iterations=60, stage2_iterations=60, patience=100)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    store = RunStore(campaign.run.store)
    try:
        kept = [event["kept"] for event in store.events(result.run_id, "filtered")]
    finally:
        store.close()
    # Each stage: its rounds all filtered out, then the stop; not 60 rounds a stage.
    assert kept and not any(kept)
    assert len(kept) == 2 * MAX_EMPTY_ROUNDS, kept
    assert {c["origin"] for c in result.history} <= {"baseline", "promoted"}
