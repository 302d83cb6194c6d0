"""Operator shares carry across rounds (issue 22: ``merge: 0.1`` at 4 candidates per round rounded to
zero in every round), and a reference model that ignores the reflect or merge format is reported."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.runner import optimize_async
from orchestrator.search.shares import operator_counts
from tests import simulated_llm
from tests.fakeserver import Reply
from tests.test_search_loop import _campaign


def test_a_small_share_gets_its_expected_count_across_rounds():
    rounds = [operator_counts({"merged": 0.1}, 4, r)["merged"] for r in range(1, 11)]
    assert rounds == [0, 0, 1, 0, 1, 0, 0, 1, 0, 1]  # 0.4 per round: one every 2.5 rounds
    reflection = [operator_counts({"reflected": 0.3}, 4, r)["reflected"] for r in range(1, 6)]
    assert sum(reflection) == 6  # 0.3 x 4 x 5 (round(1.2) = 1 per round gave 5)


@given(
    shares=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3).filter(lambda s: sum(s) <= 1.0),
    size=st.integers(0, 16),
    rounds=st.integers(1, 30),
)
def test_counts_fill_at_most_the_round_and_track_the_expectation(shares, size, rounds):
    named = {f"op{i}": share for i, share in enumerate(shares)}
    totals = dict.fromkeys(named, 0)
    for r in range(1, rounds + 1):
        counts = operator_counts(named, size, r)
        assert sum(counts.values()) <= size and min(counts.values()) >= 0
        for name in named:
            totals[name] += counts[name]
    first = next(iter(named))  # the first operator is never crowded out: its total is the expectation
    assert totals[first] == int(named[first] * size * rounds + 1e-9)
    for name, share in named.items():
        assert totals[name] <= share * size * rounds + 1e-6


async def test_a_merge_share_of_a_tenth_merges_in_a_run(tmp_path, sim_server):
    campaign = _campaign(
        tmp_path, sim_server, merge=0.1, stage1_iterations=6, stage2_iterations=1, patience=10
    )
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    merges = [
        r for r in sim_server.requests if "You combine two instructions" in r.body["messages"][-1]["content"]
    ]
    assert merges, "merge: 0.1 never merged"
    assert result.final["operators"]["merged"]["candidates"] >= 1


async def test_reflections_without_the_prompt_tags_are_reported(tmp_path, sim_server):
    def chatty_reflector(body):
        content = body["messages"][-1]["content"]
        if "<diagnosis>" in content:  # the reflect template: answer in prose, ignoring the format
            return Reply(text="The instruction is too vague. A better one would mention the evidence.")
        return simulated_llm.respond(body)

    sim_server.script.reset(chatty_reflector)
    events = []
    campaign = _campaign(tmp_path, sim_server, reflection=0.5, stage2_iterations=1)
    result = await optimize_async(campaign, on_event=lambda kind, payload: events.append((kind, payload)))
    assert result.status == "done", result.message
    ignored = [payload for kind, payload in events if kind == "format_ignored"]
    assert ignored and all(p["operator"] == "reflected" for p in ignored)
    assert "without <prompt> tags; they gave no candidate" in ignored[0]["message"]
    assert not [c for c in result.history if c["origin"] == "reflected"]  # the prose became no candidate
    row = result.final["operators"]["reflected"]
    assert row["candidates"] == 0 and row["format_ignored"] == sum(p["ignored"] for p in ignored)
    from orchestrator.report import build_report
    from orchestrator.store import RunStore

    markdown = build_report(RunStore(campaign.run.store), result.run_id, fmt="md", environ={})
    assert (
        f"reflected 0/0 accepted ({row['format_ignored']} replies ignored the format: no candidate)"
        in markdown
    )
