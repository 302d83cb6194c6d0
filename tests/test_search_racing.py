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


def test_screening_drops_a_clear_loser_and_keeps_a_close_one():
    perfect_leader = wilson_interval(16, 16)  # about (0.81, 1.0)
    assert not still_in_contention(wilson_interval(0, 4), perfect_leader)  # 0/4 cannot plausibly catch up
    assert still_in_contention(wilson_interval(3, 4), perfect_leader)  # 3/4 might
    assert still_in_contention(wilson_interval(2, 4), wilson_interval(12, 16))  # 50% of 4 vs 75% of 16


@given(_proportion(), _proportion())
def test_a_candidate_as_good_as_the_leader_is_never_dropped(candidate, leader):
    correct, n = candidate
    lead_correct = min(
        leader[0], round(leader[1] * correct / n)
    )  # the leader's rate is at most the candidate's
    assert still_in_contention(wilson_interval(correct, n), wilson_interval(lead_correct, leader[1]))


@given(_proportion(), _proportion())
def test_racing_is_monotone_in_the_evidence(candidate, leader):
    # One more correct answer never drops a candidate that was kept; a weaker leader never drops one either.
    correct, n = candidate
    lead = wilson_interval(*leader)
    if still_in_contention(wilson_interval(correct, n), lead):
        assert still_in_contention(wilson_interval(min(correct + 1, n), n), lead)
        assert still_in_contention(
            wilson_interval(correct, n), wilson_interval(max(leader[0] - 1, 0), leader[1])
        )


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
