"""``resume`` through the Python API, as the README documents it: with a corrected campaign file,
and with a larger budget that lets a stopped run search on."""

from __future__ import annotations

from orchestrator import optimize, resume
from tests.runtime_campaign import cli, query, write_campaign


def test_resume_with_a_corrected_campaign_file_continues_the_run(tmp_path, sim_server):
    first = write_campaign(tmp_path, sim_server, budget={"max_calls": 25})
    stopped = optimize(first)
    assert stopped.status == "stopped", stopped.message

    fixed = write_campaign(tmp_path, sim_server, name="fixed.yaml", budget={"max_calls": 200})
    result = resume(stopped.run_id, campaign=fixed)

    assert result.status == "done", result.message
    assert result.run_id == stopped.run_id
    store = tmp_path / "runs" / "store.sqlite"
    assert query(store, "SELECT status FROM runs") == [("done",)]


def _proposals(server) -> int:
    return sum("<prompt>" in r.body["messages"][-1]["content"] for r in server.requests)


def test_resume_with_a_larger_budget_searches_on(tmp_path, sim_server):
    # At 25 calls the budget ends exploration of both stages before a single proposal is scored.
    campaign = write_campaign(tmp_path, sim_server, budget={"max_calls": 25}, search={"minibatch_size": 4})
    stopped = optimize(campaign)
    assert stopped.status == "stopped", stopped.message
    scored_before = query(tmp_path / "runs" / "store.sqlite", "SELECT COUNT(*) FROM candidates")[0][0]

    result = resume(stopped.run_id, store=stopped.store, budget={"max_calls": 300})

    assert result.status == "done", result.message
    assert _proposals(sim_server) >= 4
    scored = query(tmp_path / "runs" / "store.sqlite", "SELECT COUNT(*) FROM candidates")[0][0]
    assert scored > scored_before + 4


def test_cli_resume_with_max_calls_searches_on_without_the_files_old_warning(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server, budget={"max_calls": 25}, search={"minibatch_size": 4})
    first = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "budget.max_calls: 25 is below" in first.stderr
    ((run_id,),) = query(tmp_path / "runs" / "store.sqlite", "SELECT run_id FROM runs")
    proposals_before = _proposals(sim_server)

    resumed = cli("run", str(campaign), "--resume", run_id, "--max-calls", "300", "--no-report", cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "budget.max_calls: 25" not in resumed.stderr
    assert _proposals(sim_server) >= proposals_before + 4
