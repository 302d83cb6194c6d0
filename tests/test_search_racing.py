"""Racing: screened candidates get the rest of the minibatch exactly when they are still in contention."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.runner import optimize_async
from orchestrator.search.racing import accuracy_interval, still_in_contention, wilson_interval
from orchestrator.search.selection import choose_best
from tests.test_search_loop import _campaign


@st.composite
def _proportion(draw):
    n = draw(st.integers(min_value=1, max_value=200))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(_proportion())
def test_the_wilson_interval_holds_the_observed_proportion(sample):
    correct, n = sample
    low, high = wilson_interval(correct, n)
    assert 0.0 <= low <= correct / n <= high <= 1.0


@given(_proportion(), _proportion())
def test_a_candidate_whose_interval_overlaps_the_leaders_is_never_dropped(candidate, leader):
    c, lead = wilson_interval(*candidate), wilson_interval(*leader)
    overlaps = c[0] <= lead[1] and lead[0] <= c[1]
    if overlaps or candidate[0] / candidate[1] >= leader[0] / leader[1]:
        assert still_in_contention(c, lead)


async def test_racing_drops_exactly_the_candidates_out_of_contention(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server, seed=2, screen_size=4, minibatch_size=16)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    dropped = [c for c in result.history if c.get("screened_out")]
    assert dropped, "seed 2 no longer screens any candidate out; pick another seed"
    for stage in ("source", "target"):
        history = [c for c in result.history if c["stage"] == stage]
        for cand in history:
            earlier = [c for c in history if c["iteration"] < cand["iteration"]]
            if cand["origin"] != "proposed" or not earlier:
                assert not cand.get("screened_out")  # the first pool of a stage is never raced
                continue
            leader = choose_best([c for c in earlier if not c.get("screened_out")], campaign.objective)
            leader_interval = accuracy_interval(leader["per_task"])
            n = {task: r["n"] for task, r in cand["per_task"].items()}
            if cand.get("screened_out"):
                assert set(n.values()) == {4}
                assert not still_in_contention(accuracy_interval(cand["per_task"]), leader_interval)
            else:
                assert set(n.values()) == {16}
                screened = {  # its first 4 examples: what the screening saw
                    t: {"n": 4, "wrong": [i for i in r["wrong"] if i < 4]}
                    for t, r in cand["per_task"].items()
                }
                assert still_in_contention(accuracy_interval(screened), leader_interval)
    assert result.answer["prompt"] not in {c["prompt"] for c in dropped}
    assert all(not c["accepted"] for c in dropped)
