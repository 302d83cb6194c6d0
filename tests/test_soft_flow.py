"""The whole flow with the soft-prompt stage: discrete search on the loopback simulated LLM, then soft
prompts on a tiny config-built local twin (real torch training, seconds on CPU)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from orchestrator.loading import parse_campaign
from orchestrator.runner import optimize_async
from tests import simulated_llm

REPO = Path(__file__).resolve().parents[1]
WORDS = (
    "Claim of claims_a claims_b claims_target item holds gold yes no Answer : [ ] Read the claim carefully"
)


@pytest.fixture(scope="module")
def tiny_twin(tmp_path_factory) -> Path:
    from soft_prompts.tiny import build_tiny_pair

    model, tokenizer = build_tiny_pair(
        (WORDS, *simulated_llm.HELPFUL, *simulated_llm.NEUTRAL), hidden_size=32
    )
    folder = tmp_path_factory.mktemp("tiny-twin")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _config(tmp_path: Path, server, twin: Path, steps: int = 6, eval_every: int = 0) -> dict:
    paths = simulated_llm.write_tasks(tmp_path / "tasks")
    model = {"model": "openai/sim", "api_base": server.openai_base, "max_retries": 1, "timeout": 20}
    return {
        "name": "soft-sim",
        "models": {"reference": {**model, "temperature": 1.0}, "scorer": {**model, "concurrency": 8}},
        "tasks": {
            "source": [{"name": n, "path": str(paths[n])} for n in ("claims_a", "claims_b")],
            "target": {"name": "claims_target", "path": str(paths["claims_target"])},
            "dev_size": 12,
            "test_size": 24,
        },
        "search": {
            "stage1_iterations": 1,
            "stage2_iterations": 1,
            "candidates_per_step": 2,
            "minibatch_size": 8,
        },
        "soft": {
            "enabled": True,
            "model": f"local/{twin}",
            "n_virtual_tokens": 4,
            "steps": steps,
            "batch_size": 4,
            "train_examples": 8,
            "dev_examples": 4,
            # No dev selection here: with a random tiny model the step-0 prompt often stays the best on
            # dev, and the flow would then (correctly) keep it, leaving zero task vectors to compare.
            "eval_every": eval_every,
        },
        "run": {
            "store": str(tmp_path / "runs" / "store.sqlite"),
            "cache": str(tmp_path / "runs" / "cache.sqlite"),
        },
    }


async def test_full_flow_hands_winners_to_the_soft_stage(tmp_path, sim_server, tiny_twin):
    campaign = parse_campaign(
        yaml.safe_dump(_config(tmp_path, sim_server, tiny_twin)), source="c.yaml", env={}
    )
    events = []
    result = await optimize_async(
        campaign, on_event=lambda kind, payload: events.append((kind, dict(payload)))
    )
    assert result.status == "done", result.message
    progress = [payload for kind, payload in events if kind == "soft_progress"]
    assert {p["name"] for p in progress} == {
        "source:claims_a",
        "source:claims_b",
        "target:text",
        "target:vectors",
        "fusion",
    }
    last = [p for p in progress if p["name"] == "source:claims_a"][-1]
    assert last["step"] == last["max_steps"] == 6 and last["loss"] is not None and last["eta_s"] == 0
    soft = result.soft
    assert set(soft["curves"]) == {
        "source:claims_a",
        "source:claims_b",
        "target:text",
        "target:vectors",
        "fusion",
    }
    assert all(len(curve) >= 2 for curve in soft["curves"].values())
    gate = soft["gate"]
    assert gate["tasks"] == ["claims_a", "claims_b", "claims_target"]
    assert len(gate["weights"]) == 3 and all(abs(sum(row) - 1) < 1e-5 for row in gate["weights"])
    assert len(soft["similarity"]["matrix"]) == 2 and abs(soft["similarity"]["matrix"][0][0] - 1) < 1e-5
    names = [row["name"] for row in soft["comparison"]]
    assert names[-3:] == ["soft: text init", "soft: vector init", "soft: gated fusion"]
    for row in soft["comparison"]:
        assert 0 <= row["accuracy"] <= 1 and row["ci"][0] <= row["accuracy"] <= row["ci"][1]
    from orchestrator.report import write_report

    report = write_report(campaign.run.store, result.run_id).read_text()
    assert "gated fusion" in report and "soft-prompt stage not run" not in report


async def test_prompts_that_never_move_give_a_not_run_row_and_a_noted_row(tmp_path, sim_server, tiny_twin):
    """A learning rate too small to move any dev score: no source vector, so the vector-initialised target is
    not run (never a second text-init row), and the text-init row says it is the winner's text unchanged."""
    config = _config(tmp_path, sim_server, tiny_twin, eval_every=2)
    config["soft"]["learning_rate"] = 1e-12
    campaign = parse_campaign(yaml.safe_dump(config), source="c.yaml", env={})
    events = []
    result = await optimize_async(
        campaign, on_event=lambda kind, payload: events.append((kind, dict(payload)))
    )
    assert result.status == "done", result.message
    rows = {row["name"]: row for row in result.soft["comparison"]}
    vector = rows["soft: vector init"]
    assert vector["accuracy"] is None and "no task vector" in vector["not_run"]
    assert "not trained past its start" in rows["soft: text init"]["note"]
    assert "target:vectors" not in {p["name"] for kind, p in events if kind == "soft_progress"}
    warnings = [p["message"] for kind, p in events if kind == "soft_warning"]
    assert any(m.startswith("soft: vector init not run") for m in warnings)
    assert all("\n" not in m and ".py" not in m for m in warnings)


async def test_hosted_scorer_without_twin_skips_with_a_reason(tmp_path, sim_server, tiny_twin):
    config = _config(tmp_path, sim_server, tiny_twin)
    config["soft"].pop("model")
    campaign = parse_campaign(yaml.safe_dump(config), source="c.yaml", env={})
    result = await optimize_async(campaign)
    assert result.status == "done"
    assert "hosted" in result.soft["skipped"] and "soft.model" in result.soft["skipped"]


def _count(store: Path, sql: str) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_kill_during_soft_training_resumes_without_rerunning_the_search(tmp_path, sim_server, tiny_twin):
    config = _config(tmp_path, sim_server, tiny_twin, steps=120)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    store = Path(config["run"]["store"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "orchestrator.cli.app", "run", str(path)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while (
        time.monotonic() < deadline
        and _count(store, "SELECT COUNT(*) FROM events WHERE kind='soft_trained'") < 1
    ):
        time.sleep(0.05)
    time.sleep(0.5)  # now inside the second source prompt's training
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _count(store, "SELECT COUNT(*) FROM events WHERE kind='soft_final'") == 0, (
        "finished before the kill"
    )
    requests_before = len(sim_server.requests)
    first = next((tmp_path / "runs" / "soft").glob("*/sources/claims_a/done.json"))
    stamp = first.stat().st_mtime_ns
    run_id = sqlite3.connect(store).execute("SELECT run_id FROM runs").fetchone()[0]

    resumed = subprocess.run(
        [*cmd, "--resume", run_id], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert len(sim_server.requests) == requests_before, "the discrete stage was re-run"
    assert first.stat().st_mtime_ns == stamp, "a finished soft prompt was trained again"
    result = json.loads(sqlite3.connect(store).execute("SELECT result FROM runs").fetchone()[0])
    assert [row["name"] for row in result["soft"]["comparison"]][-1] == "soft: gated fusion"
