"""Ctrl-C names the resume command; runs are found through ``--store`` or ``PROMPTFUSION_STORE``, by the
commands and by ``resume()``; the README's API example works on a run stopped by its budget."""

from __future__ import annotations

import signal

import pytest

from orchestrator import load_campaign, optimize, resume
from orchestrator.errors import RunNotFound
from tests.runtime_campaign import cli, lines, popen_cli, query, wait_for, write_campaign


def test_ctrl_c_prints_the_resume_command(tmp_path, sim_server):
    sim_server.latency = 0.5
    campaign = write_campaign(tmp_path, sim_server)
    store = tmp_path / "runs" / "store.sqlite"
    proc = popen_cli("run", str(campaign), "--no-report", cwd=tmp_path)
    wait_for(lambda: query(store, "SELECT 1 FROM events WHERE kind='stage'"), what="the run to start")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    ((run_id, status),) = query(store, "SELECT run_id, status FROM runs")
    assert proc.returncode == 130
    assert lines(err)[-1] == f"interrupted; resume with: promptfusion run {campaign} --resume {run_id}"
    assert status == "interrupted"
    assert query(store, "SELECT COUNT(*) FROM leases") == [(0,)]  # released on the way out
    sim_server.latency = 0.0
    resumed = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr


def test_commands_find_a_run_through_promptfusion_store(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server)
    assert cli("run", str(campaign), "--no-report", cwd=tmp_path).returncode == 0
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id,),) = query(store, "SELECT run_id FROM runs")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = cli("show", run_id, cwd=elsewhere)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "error: runs/promptfusion.sqlite: no run store here "
        "(pass --store, set PROMPTFUSION_STORE, or run a campaign first)"
    )
    listed = cli("runs", cwd=elsewhere, PROMPTFUSION_STORE=str(store))
    assert listed.returncode == 0 and run_id in listed.stdout
    shown = cli("show", run_id, cwd=elsewhere, PROMPTFUSION_STORE=str(store))
    assert shown.returncode == 0 and f"run {run_id} in {store}" in lines(shown.stdout)
    report = cli(
        "report", run_id, "--format", "json", "--out", "-", cwd=elsewhere, PROMPTFUSION_STORE=str(store)
    )
    assert report.returncode == 0 and f'"run_id": "{run_id}"' in report.stdout


def test_readme_api_example_on_a_stopped_run(tmp_path, sim_server, monkeypatch):
    campaign = load_campaign(write_campaign(tmp_path, sim_server, budget={"max_calls": 40}))
    result = optimize(campaign)
    assert result.status == "stopped"
    # As in the README: continue a stopped run from its RunResult.
    result = resume(result.run_id, store=result.store, budget={"max_calls": 5000})
    assert result.status == "done"
    assert result.final["winner"]["prompt"]
    # Without store=: the environment variable, as for the commands.
    monkeypatch.chdir(tmp_path / "tasks")
    with pytest.raises(RunNotFound, match="set PROMPTFUSION_STORE"):
        resume(result.run_id)
    assert not (tmp_path / "tasks" / "runs").exists()  # looking created no empty store
    monkeypatch.setenv("PROMPTFUSION_STORE", result.store)
    assert resume(result.run_id).final == result.final
