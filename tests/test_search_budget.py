"""Spending every call well: budget-first allocation, stops that still answer, finalists confirmed on
fresh examples, every sent call accounted for, and a dry-run estimate from the run's own plan.

All against the real loopback server answering as the simulated LLM, with real SQLite stores.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from orchestrator.estimate import estimate_campaign
from orchestrator.runner import optimize_async, result_from_store
from orchestrator.search.task_scorer import TaskPromptScorer
from orchestrator.store import RunStore
from orchestrator.tasks.resolve import load_campaign_tasks
from tests import simulated_llm
from tests.fakeserver import Fault
from tests.test_search_loop import _campaign


def _sent_calls(store_path, run_id) -> int:
    with sqlite3.connect(store_path) as db:
        return db.execute(
            "SELECT COUNT(*) FROM llm_calls WHERE run_id=? AND cache_hit=0", (run_id,)
        ).fetchone()[0]


@pytest.mark.parametrize("max_calls", [300, 420])
async def test_a_call_budget_ends_done_with_a_tested_winner_within_the_budget(
    tmp_path, sim_server, max_calls
):
    result = await optimize_async(_campaign(tmp_path, sim_server, budget={"max_calls": max_calls}))
    assert result.status == "done", result.message
    assert len(sim_server.requests) <= max_calls
    assert result.final["test"]["winner"]["prompt"] == result.answer["prompt"]
    assert result.answer["tested"] and result.answer["confirmed"]
    assert "held-out test of" in result.answer["measured"]
    # Exploration gave way to the end: the hard limit itself was never hit.
    assert RunStore(tmp_path / "store.sqlite").events(result.run_id, "budget") == []


async def test_a_budget_too_small_for_the_end_stops_with_the_best_so_far(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server, budget={"max_calls": 60})
    result = await optimize_async(campaign)
    assert result.status == "stopped" and "max_calls" in result.message
    assert len(sim_server.requests) <= 60
    answer = result.answer
    assert answer is not None and answer["prompt"] in {c["prompt"] for c in result.history}
    assert not answer["tested"] and "no held-out test" in answer["measured"]
    assert answer["objective"] is not None and "accuracy" in answer["scores"]
    shown = result_from_store(RunStore(campaign.run.store), result.run_id)  # what `show` prints
    assert shown.status == "stopped" and shown.answer == answer and shown.history


async def test_a_stop_file_stops_the_run_with_the_best_so_far(tmp_path, sim_server):
    stop = tmp_path / "STOP"
    campaign = _campaign(tmp_path, sim_server)
    campaign = campaign.model_copy(
        update={"budget": campaign.budget.model_copy(update={"stop_file": str(stop)})}
    )

    def on_event(kind, payload):
        if kind == "filtered":  # the baselines are selected and checkpointed: ask the run to stop
            stop.touch()

    result = await optimize_async(campaign, on_event=on_event)
    assert result.status == "stopped" and "stop file" in result.message
    assert result.answer is not None and result.answer["stage"] == "source"
    assert "source tasks (not the target)" in result.answer["measured"]
    assert result.final is None


async def test_a_time_limit_stops_mid_evaluation_and_counts_what_was_sent(tmp_path, sim_server):
    sim_server.latency = 0.05
    campaign = _campaign(tmp_path, sim_server, budget={"max_seconds": 0.6})
    result = await optimize_async(campaign)
    assert result.status == "stopped" and "time limit" in result.message
    await asyncio.sleep(0.2)  # let the server log requests still being read
    assert _sent_calls(campaign.run.store, result.run_id) >= len(sim_server.requests)


async def test_finalists_are_confirmed_on_dev_examples_disjoint_from_selection(tmp_path, sim_server):
    campaign = _campaign(tmp_path, sim_server)
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    target = campaign.tasks.target.name
    task = load_campaign_tasks(campaign)[target]
    splits = TaskPromptScorer({target: task}, campaign, scorer_llm=None)
    minibatch = {task.render_input(e) for e in splits.split(target, "minibatch")}
    confirm = {task.render_input(e) for e in splits.split(target, "confirm")}
    assert confirm and minibatch.isdisjoint(confirm)
    assert result.final["n"] == len(confirm)
    for finalist in result.final["finalists"]:
        assert finalist["per_task"][target]["n"] == len(confirm)
        asked = {
            r.body["messages"][-1]["content"]
            for r in sim_server.requests
            if r.body["messages"][0]["content"] == finalist["prompt"]
            and target in r.body["messages"][-1]["content"]
        }
        assert confirm <= asked  # each finalist really was scored on every fresh example
    assert result.answer["confirmed"]


async def test_every_sent_call_is_recorded_when_an_evaluation_is_cut_short(tmp_path, fake_server):
    # Half the answers fail at once (counted towards max_errors), the others are slow, so the
    # evaluation trips max_errors while many calls are still in flight and cancels them.
    def respond(body):
        user = body["messages"][-1]["content"]
        if "[gold: yes]" in user:
            return Fault.http_status(500)
        return Fault.slow(0.3)

    fake_server.script.reset(lambda body: simulated_llm.respond(body))
    campaign = _campaign(tmp_path, fake_server, minibatch_size=40)
    model = campaign.models.scorer.model_copy(update={"max_retries": 0})
    campaign = campaign.model_copy(update={"models": campaign.models.model_copy(update={"scorer": model})})
    from orchestrator.resources import RunResources

    store = RunStore(campaign.run.store)
    run_id = store.create_run("abort", campaign.resolved(), 0)
    tasks = load_campaign_tasks(campaign)
    async with RunResources.open(campaign, store=store, run_id=run_id, environ={}) as res:
        await res["scorer"].label_method()  # a run probes how labels are scored at its start
        fake_server.script.reset(respond)
        scorer = TaskPromptScorer(tasks, campaign, res["scorer"])
        result = await scorer.score("Check the evidence.", "claims_a", "dev")
        assert result["scoring"] == "failed"
        await asyncio.sleep(0.5)  # every request the client sent has reached the server by now
        received = len(fake_server.requests)
        assert received > result["failures"], "nothing was in flight when the evaluation stopped"
        assert _sent_calls(campaign.run.store, run_id) == received
        assert res.budget.used_calls == received


@pytest.mark.parametrize("budget", [{}, {"max_calls": 300}, {"max_calls": 500}])
async def test_the_dry_run_estimate_is_within_20_percent_of_the_real_count(tmp_path, sim_server, budget):
    campaign = _campaign(tmp_path, sim_server, budget=budget)
    estimate = estimate_campaign(campaign)
    result = await optimize_async(campaign)
    real = _sent_calls(campaign.run.store, result.run_id)
    assert real == len(sim_server.requests)
    assert abs(estimate.total_calls - real) <= 0.2 * real, (estimate.calls, real)


async def test_ctrl_c_saves_the_best_so_far_before_unwinding(tmp_path, sim_server):
    # asyncio.run turns Ctrl-C into cancelling the main task; optimize() then returns what was saved.
    campaign = _campaign(tmp_path, sim_server)
    scored = asyncio.Event()
    job = asyncio.ensure_future(
        optimize_async(
            campaign, run_id="ctrl-c", on_event=lambda kind, _: kind == "selected" and scored.set()
        )
    )
    await scored.wait()
    await asyncio.sleep(0.05)  # into the next round
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    saved = result_from_store(RunStore(campaign.run.store), "ctrl-c")
    assert saved.status == "interrupted"
    assert saved.answer is not None and saved.answer["prompt"] == "You are an assistant."
    assert "not confirmed on dev" in saved.answer["measured"]


async def test_a_preset_buys_what_a_tested_winner_needs_plus_its_exploration(tmp_path, sim_server):
    from orchestrator.config import PRESET_CALLS, Campaign
    from orchestrator.validation.reach import needed_calls

    campaign = _campaign(tmp_path, sim_server, preset="light")
    tasks = load_campaign_tasks(campaign)
    unlimited = campaign.model_copy(update={"budget": campaign.budget.model_copy(update={"max_calls": None})})
    assert campaign.budget.max_calls == needed_calls(unlimited, tasks) + PRESET_CALLS["light"]
    assert campaign.search.stage1_iterations == 2  # set explicitly by the campaign: kept
    config = campaign.model_dump()
    del config["search"]["stage1_iterations"], config["search"]["stage2_iterations"]
    config["budget"]["max_calls"] = None
    again = Campaign.model_validate(config)  # built in Python: the exploration alone until checked
    assert again.budget.max_calls == PRESET_CALLS["light"] and again.search.stage2_iterations == 100
    from orchestrator.api import _campaign as checked

    loaded_again = checked(again, False, {})  # what optimize() runs: the need added, once
    assert loaded_again.budget.max_calls == needed_calls(unlimited, tasks) + PRESET_CALLS["light"]
    assert checked(loaded_again, False, {}).budget.max_calls == loaded_again.budget.max_calls
    saved = Campaign.model_validate(campaign.resolved())
    assert saved.budget.max_calls == campaign.budget.max_calls  # a saved config reloads the same
    result = await optimize_async(campaign)
    assert result.status == "done", result.message
    assert result.answer["tested"] and result.answer["confirmed"]
    assert len(sim_server.requests) <= campaign.budget.max_calls


def test_a_budget_below_what_a_tested_winner_needs_is_said_at_load(tmp_path, sim_server):
    from orchestrator.errors import BudgetWarning

    with pytest.warns(BudgetWarning, match=r"sim\.yaml:\d+: budget\.max_calls: 60 is below the \d+ calls"):
        _campaign(tmp_path, sim_server, budget={"max_calls": 60})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", BudgetWarning)
        _campaign(tmp_path, sim_server, budget={"max_calls": 420})  # enough: no warning


def test_a_run_reads_each_task_file_once(tmp_path, sim_server, request):
    from orchestrator.api import optimize

    campaign = _campaign(tmp_path, sim_server, budget={"max_calls": 300})
    reads = request.getfixturevalue("task_reads")  # counting starts after the campaign loaded
    result = optimize(campaign)  # the checks read the files; the run uses what they read
    assert result.status == "done", result.message
    assert sorted(reads) == ["claims_a", "claims_b", "claims_target"]
