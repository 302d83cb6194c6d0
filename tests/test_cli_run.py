"""The CLI over a real loopback server: run, runs, show, --dry-run, a SIGKILL mid-run and --resume."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.runtime_campaign import cli, popen_cli, query, write_campaign

# More rounds and candidates than the runtime tests' campaign: enough work for a kill to land mid-run
# and for a 25-call budget to stop the run early.
CLI_SEARCH = {"stage1_iterations": 2, "stage2_iterations": 2, "candidates_per_step": 3}


def _write_campaign(folder: Path, server) -> Path:
    return write_campaign(folder, server, search=CLI_SEARCH)


def _cli(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = cli(*args, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_run_then_runs_and_show(tmp_path, sim_server):
    campaign = _write_campaign(tmp_path, sim_server)
    out = _cli("run", str(campaign), cwd=tmp_path).stdout
    assert "held-out test" in out and "done" in out
    run_id = out.split("run ", 1)[1].split()[0] if "run " in out else None
    store = str(tmp_path / "runs" / "store.sqlite")
    listing = _cli("runs", "--store", store, cwd=tmp_path).stdout
    assert "runtime" in listing and "done" in listing
    run_id = sqlite3.connect(store).execute("SELECT run_id FROM runs").fetchone()[0]
    shown = _cli("show", run_id, "--store", store, cwd=tmp_path).stdout
    assert "history" in shown and "baseline" in shown and "winner" in shown


def test_dry_run_estimates_without_calls(tmp_path, sim_server):
    campaign = _write_campaign(tmp_path, sim_server)
    proc = _cli("run", str(campaign), "--dry-run", "--max-calls", "10", cwd=tmp_path)
    assert "pre-flight estimate" in proc.stdout and "max_calls=10 is below" in proc.stdout
    # The flag's shortfall is said before anything runs, as the file's budget.max_calls would be.
    assert "warning: --max-calls: 10 is below the" in proc.stderr
    assert sim_server.requests == []
    enough = _cli("run", str(campaign), "--dry-run", "--max-calls", "5000", cwd=tmp_path)
    assert "warning" not in enough.stderr


def test_errors_are_one_line_and_debug_shows_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("search:\n  stage1_iteratons: 2\n")
    proc = _cli("run", str(bad), cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"error: {bad}:2: search.stage1_iteratons: unknown key (did you mean 'stage1_iterations'?)"
    )
    debug = _cli("--debug", "run", str(bad), cwd=tmp_path, check=False)
    assert "Traceback" in debug.stderr
    missing = _cli("show", "nope", "--store", str(tmp_path / "none.sqlite"), cwd=tmp_path, check=False)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def _keys(requests) -> list[str]:
    return [hashlib.sha256(json.dumps(r.body, sort_keys=True).encode()).hexdigest() for r in requests]


def _events(store: Path, kind: str) -> int:
    return len(query(store, "SELECT 1 FROM events WHERE kind=?", kind))


@pytest.mark.slow
def test_sigkill_mid_scoring_then_resume_matches_uninterrupted_run(tmp_path, sim_server):
    sim_server.latency = 0.03  # scoring takes a while, so the kill lands inside it
    campaign = _write_campaign(tmp_path / "killed", sim_server)
    store = tmp_path / "killed" / "runs" / "store.sqlite"
    proc = popen_cli("run", str(campaign), cwd=campaign.parent, output=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # Kill once stage 1 has proposed candidates and the server is answering their scoring calls.
    while time.monotonic() < deadline and not (_events(store, "proposed") >= 1 and sim_server.in_flight > 0):
        time.sleep(0.01)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _events(store, "test") == 0, "the run finished before it could be killed"
    run_id = sqlite3.connect(store).execute("SELECT run_id FROM runs").fetchone()[0]

    before = list(sim_server.requests)
    _cli("run", str(campaign), "--resume", run_id, cwd=campaign.parent)
    after = sim_server.requests[len(before) :]
    # Every answer the killed run received was cached: none of those requests is sent again. Only calls
    # cut off by the kill itself (in flight at that instant, answer never read) may be repeated.
    answered = {
        k for k, r in zip(_keys(before), before, strict=True) if r.finished and r.finished < killed_at - 0.2
    }
    resent = [k for k in _keys(after) if k in answered]
    assert resent == [], f"{len(resent)} answered requests were sent again after the resume"
    assert len(_keys(after)) == len(set(_keys(after)))

    fresh = _write_campaign(tmp_path / "fresh", sim_server)
    _cli("run", str(fresh), cwd=fresh.parent)
    db_killed, db_fresh = (
        sqlite3.connect(store),
        sqlite3.connect(tmp_path / "fresh" / "runs" / "store.sqlite"),
    )
    query = "SELECT stage, prompt, objective FROM candidates ORDER BY stage, candidate_id"
    assert db_killed.execute(query).fetchall() == db_fresh.execute(query).fetchall()
    result = "SELECT result FROM runs"
    winner = [
        json.loads(db.execute(result).fetchone()[0])["final"]["winner"]["prompt"]
        for db in (db_killed, db_fresh)
    ]
    assert winner[0] == winner[1]
    # The node cut off by the kill ran again on resume, yet each event a node records is written once:
    # the killed-and-resumed run holds exactly the fresh run's events (the runner's own, such as the
    # scoring decision recorded at every start, or the task data's fingerprint, whose payload names this
    # run's own files, are not node events).
    runner_events = "'scoring', 'config_changed', 'budget', 'failed', 'task_data'"
    node_events = f"SELECT kind, payload FROM events WHERE kind NOT IN ({runner_events})"
    killed_events, fresh_events = (Counter(db.execute(node_events)) for db in (db_killed, db_fresh))
    assert killed_events - fresh_events == Counter(), "events written twice after the resume"
    assert killed_events == fresh_events


def test_models_ping_reports_latency_and_failures(tmp_path, sim_server):
    campaign = _write_campaign(tmp_path, sim_server)
    out = _cli("models", str(campaign), "--ping", cwd=tmp_path).stdout
    assert "reference" in out and "scorer" in out and " s " in out
    assert len(sim_server.requests) == 2  # one uncached call per role
    from tests.fakeserver import Fault

    sim_server.script.push(Fault.http_status(401))
    failed = _cli("models", str(campaign), "--ping", cwd=tmp_path, check=False)
    assert failed.returncode == 1 and "Fatal" in failed.stdout


def test_a_run_stopped_by_its_budget_prints_and_shows_its_best_prompt_so_far(tmp_path, sim_server):
    campaign = _write_campaign(tmp_path, sim_server)
    proc = _cli("run", str(campaign), "--max-calls", "25", "--no-report", cwd=tmp_path, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "best prompt so far" in proc.stdout and "not confirmed on dev" in proc.stdout
    store = str(tmp_path / "runs" / "store.sqlite")
    run_id = sqlite3.connect(store).execute("SELECT run_id FROM runs").fetchone()[0]
    shown = _cli("show", run_id, "--store", store, cwd=tmp_path).stdout
    assert "stopped" in shown and "best prompt so far" in shown
