"""Secrets reach the server and nothing else; what load changed or could not limit is in the report.

One real run through the CLI against the loopback server, with a header secret passed by
``extra_headers_env``, duplicated task rows and ``max_usd`` over an unpriced model (``--allow-unpriced``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.backends.base import BackendSettings
from orchestrator.backends.registry import create_backend
from orchestrator.gateway.factory import backend_settings
from orchestrator.gateway.settings import GatewaySettings
from tests import simulated_llm

REPO = Path(__file__).resolve().parents[1]
PLANTED = "pf-planted-header-secret-0451"


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.app", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
    )


def _campaign(tmp_path: Path, server) -> Path:
    paths = simulated_llm.write_tasks(tmp_path / "tasks", n=40)
    target = paths["claims_target"]
    target.write_text(target.read_text() + "".join(target.read_text().splitlines(keepends=True)[:5]))
    model = {
        "model": "openai/sim",
        "api_base": server.openai_base,
        "max_retries": 1,
        "options": {"extra_headers_env": {"X-Gateway-Token": "PF_GATEWAY_TOKEN"}},
    }
    config = {
        "name": "secrets",
        "models": {"reference": {**model, "temperature": 1.0}, "scorer": model},
        "tasks": {
            "source": [{"name": "claims_a", "path": "tasks/claims_a.jsonl"}],
            "target": {"name": "claims_target", "path": "tasks/claims_target.jsonl"},
            "dev_size": 8,
            "test_size": 8,
        },
        "search": {
            "stage1_iterations": 1,
            "stage2_iterations": 1,
            "candidates_per_step": 2,
            "minibatch_size": 4,
        },
        "budget": {"max_usd": 100.0},
        "soft": {"enabled": False},
        "run": {"store": "runs/store.sqlite", "cache": "runs/cache.sqlite"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_header_secret_is_sent_but_never_stored_or_printed(tmp_path, fake_server):
    fake_server.script.reset(simulated_llm.respond)
    campaign = _campaign(tmp_path, fake_server)
    env = {"PF_GATEWAY_TOKEN": PLANTED}

    checked = _cli("check", str(campaign), "--allow-unpriced", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert PLANTED not in checked.stdout + checked.stderr
    assert "PF_GATEWAY_TOKEN" in checked.stdout
    assert "dropped 5 examples whose input repeats an earlier one" in checked.stderr

    refused = _cli("run", str(campaign), cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "has no known price" in refused.stderr
    assert fake_server.requests == []

    ran = _cli("run", str(campaign), "--allow-unpriced", cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    assert fake_server.requests
    assert all(r.headers.get("X-Gateway-Token") == PLANTED for r in fake_server.requests)
    assert PLANTED not in ran.stdout + ran.stderr

    stored = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in stored) and any(p.suffix == ".html" for p in stored)
    leaked = [p for p in stored if PLANTED.encode() in p.read_bytes()]
    assert leaked == []
    report = next(p for p in stored if p.suffix == ".html").read_text()
    assert "max_usd does not count openai/sim" in report  # --allow-unpriced is stated in the report


def test_run_records_what_load_dropped_and_what_max_usd_cannot_count(tmp_path, fake_server):
    fake_server.script.reset(simulated_llm.respond)
    campaign = _campaign(tmp_path, fake_server)
    ran = _cli(
        "run", str(campaign), "--allow-unpriced", "--no-report", cwd=tmp_path, env={"PF_GATEWAY_TOKEN": "x"}
    )
    assert ran.returncode == 0, ran.stderr
    with sqlite3.connect(tmp_path / "runs" / "store.sqlite") as db:
        events = {
            kind: json.loads(payload) for kind, payload in db.execute("SELECT kind, payload FROM events")
        }
        config = json.loads(db.execute("SELECT config FROM runs").fetchone()[0])
    assert events["data"]["task"] == "claims_target"
    assert events["data"]["note"].startswith("task 'claims_target': dropped 5 examples whose input repeats")
    assert events["unpriced"]["note"] == (
        "budget.allow_unpriced: max_usd does not count openai/sim (no known price: their calls counted as $0)"
    )
    assert config["budget"]["allow_unpriced"] is True
    from orchestrator.report.data import gather_report
    from orchestrator.store import RunStore

    store = RunStore(str(tmp_path / "runs" / "store.sqlite"))
    try:
        run_id = store.runs()[0].run_id
        notes = gather_report(store, run_id)["notes"]
    finally:
        store.close()
    # The simulated server has no prompt_logprobs: the run also says its label scores are first-token
    # estimates (issue 22 item 8), a note of its own.
    estimated = [note for note in notes if "does not score whole labels" in note]
    assert len(estimated) == 1
    assert [note for note in notes if note not in estimated] == [
        events["data"]["note"],
        events["unpriced"]["note"],
    ]


def test_extra_headers_env_is_resolved_into_headers_never_into_options():
    settings = GatewaySettings(
        model="openai/m",
        options={"extra_headers": {"X-Team": "eval"}, "extra_headers_env": {"X-Token": "PF_TOKEN"}},
    )
    resolved = backend_settings(settings, {"PF_TOKEN": PLANTED})
    assert resolved.headers == {"X-Token": PLANTED}
    assert resolved.options.extra_headers == {"X-Team": "eval"}
    assert resolved.options.extra_headers_env == {}  # the variables' names stay in the config
    assert PLANTED not in repr(resolved)
    with pytest.raises(ValueError, match="PF_TOKEN"):
        backend_settings(settings, {})


async def test_resolved_header_wins_over_a_default_of_any_case(fake_server):
    backend = create_backend(
        "openai/m",
        BackendSettings(
            api_base=fake_server.openai_base,
            api_key="sk-config-key",
            options={"extra_headers": {"X-Team": "eval"}},
            headers={"authorization": f"Bearer {PLANTED}"},
        ),
    )
    try:
        from orchestrator.backends.base import ChatRequest

        await backend.complete(ChatRequest(messages=(("user", "hi"),), max_tokens=4))
    finally:
        await backend.aclose()
    sent = {k.lower(): v for k, v in fake_server.requests[-1].headers.items()}
    assert sent["authorization"] == f"Bearer {PLANTED}" and sent["x-team"] == "eval"
