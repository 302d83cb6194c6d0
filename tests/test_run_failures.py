"""A systematic failure is a failed run, not a bad prompt; a failed run resumes from a corrected file.

The scorer answers 401 (or 500) to every call while the reference LLM works: the run stops after the
baselines with exit code 1, marked ``failed`` with the reason, nothing recorded as a scored candidate.
"""

from __future__ import annotations

import json

import pytest

from orchestrator.errors import DataError
from orchestrator.loading import load_campaign
from orchestrator.runner import optimize_async
from tests import simulated_llm
from tests.fakeserver import Fault
from tests.runtime_campaign import cli, lines, query, write_campaign


def _scorer_fails_with(status: int):
    def respond(body):
        if "<prompt>" in (body.get("messages") or [{}])[-1].get("content", ""):
            return simulated_llm.respond(body)  # the reference LLM still works
        return Fault.http_status(status)

    return respond


def test_scorer_401_on_every_call_fails_the_run_after_the_baselines(tmp_path, sim_server):
    sim_server.script.reset(_scorer_fails_with(401))
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "generate"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id, status, message),) = query(store, "SELECT run_id, status, message FROM runs")
    expected = (
        "the scorer failed on claims_a with the baseline prompt (Fatal: openai/sim: HTTP 401: injected HTTP "
        "401 (fake)); this is the backend or the campaign, not the prompt"
    )
    assert (status, message) == ("failed", expected)
    out = lines(proc.stdout)
    assert f"failed: {expected}" in out
    assert f"fix the cause, then resume with: promptfusion run {campaign} --resume {run_id}" in out
    assert query(store, "SELECT COUNT(*) FROM candidates") == [(0,)]
    scorer_calls = [r for r in sim_server.requests if "<prompt>" not in r.body["messages"][-1]["content"]]
    assert scorer_calls and all(
        r.body["messages"][0]["content"] == "You are an assistant." for r in scorer_calls
    )

    # The server is fixed and the file corrected where a resume may change it: the run finishes.
    sim_server.script.reset(simulated_llm.respond)
    fixed = write_campaign(tmp_path, sim_server, scoring={"mode": "generate"}, budget={"max_calls": 5000})
    resumed = cli("run", str(fixed), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert query(store, "SELECT status FROM runs") == [("done",)]
    (config,) = query(store, "SELECT config FROM runs")[0]
    assert json.loads(config)["budget"]["max_calls"] == 5000


def test_scorer_401_on_the_probe_fails_the_run_before_any_scoring(tmp_path, sim_server):
    sim_server.script.reset(_scorer_fails_with(401))
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "auto"})
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    expected = (
        "the scorer failed its first call, the scoring-mode probe (Fatal: openai/sim: HTTP 401: injected "
        "HTTP 401 (fake)); this is the backend or the campaign, not the prompt"
    )
    assert f"failed: {expected}" in lines(proc.stdout)
    store = tmp_path / "runs" / "store.sqlite"
    assert query(store, "SELECT status, message FROM runs") == [("failed", expected)]
    assert len(sim_server.requests) == 1


async def test_transient_errors_on_most_baseline_examples_fail_the_run(tmp_path, sim_server):
    sim_server.script.reset(_scorer_fails_with(500))
    campaign = load_campaign(write_campaign(tmp_path, sim_server, scoring={"mode": "generate"}))
    result = await optimize_async(campaign)
    assert result.status == "failed"
    assert result.message == (
        "the scorer failed on 10 of 10 examples of claims_a with the baseline prompt (Transient: openai/sim: "
        "HTTP 500: injected HTTP 500 (fake)); this is the backend or the campaign, not the prompt"
    )
    assert result.history == []


def test_resume_refuses_a_change_to_what_was_scored(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server)
    stopped = cli("run", str(campaign), "--max-calls", "30", "--no-report", cwd=tmp_path)
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id,),) = query(store, "SELECT run_id FROM runs")
    changed = write_campaign(
        tmp_path,
        sim_server,
        tasks={"dev_size": 20},
        search={"minibatch_size": 10, "baseline_prompts": ["Hi."]},
    )
    before = len(sim_server.requests)
    proc = cli("run", str(changed), "--resume", run_id, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"error: cannot resume run {run_id} with this campaign: search.baseline_prompts (run: "
        "['You are an assistant.'], file: ['Hi.']); tasks.dev_size (run: 16, file: 20) would invalidate what "
        "was already scored; restore them or start a new run (a resume may change only name, models, budget, "
        "run.store, run.cache, tracking)"
    )
    assert len(sim_server.requests) == before
    assert query(store, "SELECT status FROM runs") == [("stopped",)]


async def test_a_run_that_cannot_start_is_marked_failed(tmp_path, sim_server):
    campaign = load_campaign(write_campaign(tmp_path, sim_server))
    (tmp_path / "tasks" / "claims_b.jsonl").unlink()  # gone between loading the file and running it
    with pytest.raises(DataError) as raised:
        await optimize_async(campaign)
    ((status, message),) = query(tmp_path / "runs" / "store.sqlite", "SELECT status, message FROM runs")
    assert (status, message) == ("failed", f"DataError: {raised.value}")
    assert sim_server.requests == []
