"""A scorer that never answers with one of the task's labels stops the run at the baselines.

The labels are 👍/👎 and the scorer answers yes/no: every prompt would score 0.000 and the search would
spend its whole budget "optimizing" against a mismatch no prompt can fix. The run stops after the
baselines, failed, with one line naming the cause, as an outage stops it.
"""

from __future__ import annotations

import json

from tests.runtime_campaign import cli, lines, query, write_campaign

EMOJI = {"yes": "👍", "no": "👎"}


def _relabel(folder):
    for path in (folder / "tasks").glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({**r, "label": EMOJI[r["label"]]}) + "\n" for r in rows))


def test_a_scorer_that_never_gives_a_label_fails_the_run_after_the_baselines(tmp_path, sim_server):
    campaign = write_campaign(tmp_path, sim_server, scoring={"mode": "generate"}, budget={"max_calls": 400})
    _relabel(tmp_path)
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    expected = (
        "the scorer never answered with a label of claims_a ('👍', '👎') with the baseline prompt: no "
        "parsable answer for 10/10 examples (it answered e.g. 'no'); check the task's labels and the "
        "scorer model, not the prompt"
    )
    assert f"failed: {expected}" in lines(proc.stdout)
    store = tmp_path / "runs" / "store.sqlite"
    assert query(store, "SELECT status, message FROM runs") == [("failed", expected)]
    assert query(store, "SELECT COUNT(*) FROM candidates") == [(0,)]
    assert len(sim_server.requests) < 40  # the baselines and round 1's proposals beside them, not 400
