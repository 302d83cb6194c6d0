"""``resume`` through the Python API, as the README documents it: with a corrected campaign file,
and with a larger budget that lets a stopped run search on."""

from __future__ import annotations

from orchestrator import optimize, resume
from tests.runtime_campaign import query, write_campaign


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
