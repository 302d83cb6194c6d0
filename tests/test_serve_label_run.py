"""Issue 22 item 8: a campaign whose scorer is ``openai/`` pointed at the project's own ``serve``
(a separate process, as vLLM would be) scores whole labels and finishes; it used to fail on the
baseline with "Unsupported: none of the first-token alternatives ...".
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.runtime_campaign import cli, cli_env, query, write_campaign
from tests.test_local_tiny import save_tiny_model

pytest.importorskip("torch")


@pytest.fixture
def served_tiny(tmp_path):
    model_dir = save_tiny_model(tmp_path / "tiny")
    command = [sys.executable, "-m", "orchestrator.serve", "--model", f"local/{model_dir}", "--port", "0"]
    command += ["--device", "cpu", "--threads", "1"]
    server = subprocess.Popen(
        command, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on "), line + server.stderr.read()
        yield line.removeprefix("listening on ").strip()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_a_campaign_scores_whole_labels_over_the_projects_own_server(tmp_path, sim_server, served_tiny):
    scorer = {"model": "openai/local-tiny", "api_base": f"{served_tiny}/v1", "concurrency": 4, "timeout": 60}
    reference = {"model": "openai/sim", "api_base": sim_server.openai_base, "temperature": 1.0}
    campaign = write_campaign(
        tmp_path, sim_server, models={"reference": reference, "scorer": scorer}, scoring={"mode": "auto"}
    )
    proc = cli("run", str(campaign), "--no-report", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "openai/local-tiny scores whole labels (prompt log-probabilities)" in proc.stdout
    store = tmp_path / "runs" / "store.sqlite"
    ((status, result),) = query(store, "SELECT status, result FROM runs")
    assert status == "done"
    assert "ece" in json.loads(result)["final"]["test"]["winner"]["scores"]  # label probabilities
    assert not query(store, "SELECT payload FROM events WHERE kind='scoring_note'")  # nothing estimated
