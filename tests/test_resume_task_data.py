"""A run remembers a fingerprint of its task data; a resume with changed data is refused, naming the
file, instead of mixing scores measured on old and new labels in one history."""

from __future__ import annotations

import json

from tests.runtime_campaign import cli, query, write_campaign


def _flip_every_third_label(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows[::3]:
        row["label"] = "no" if row["label"] == "yes" else "yes"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_resume_with_changed_task_data_is_refused_naming_the_file(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server)
    stopped = cli("run", str(campaign), "--max-calls", "30", "--no-report", cwd=tmp_path)
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    store = tmp_path / "runs" / "store.sqlite"
    ((run_id,),) = query(store, "SELECT run_id FROM runs")

    changed = tmp_path / "tasks" / "claims_a.jsonl"
    original = changed.read_text()
    _flip_every_third_label(changed)
    before = len(sim_server.requests)
    proc = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip() == (
        f"error: cannot resume run {run_id}: the data of task claims_a changed since the run started "
        f"({changed}); restore the file or start a new run"
    )
    assert len(sim_server.requests) == before
    assert query(store, "SELECT status FROM runs") == [("stopped",)]

    changed.write_text(original)  # restored: the run continues
    resumed = cli("run", str(campaign), "--resume", run_id, "--no-report", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert query(store, "SELECT status FROM runs") == [("done",)]
