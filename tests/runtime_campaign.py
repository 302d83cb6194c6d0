"""Campaign files and CLI runs for the runtime-failure tests (scoring modes, failed runs, leases, Ctrl-C).

The campaign is the simulated search of ``tests.simulated_llm`` against the loopback fake server,
small enough to finish in a few seconds; ``overrides`` are merged section by section.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from tests import simulated_llm

REPO = Path(__file__).resolve().parents[1]


def write_campaign(folder: Path, server: Any, name: str = "c.yaml", **overrides: dict[str, Any]) -> Path:
    """Write the tasks and a campaign file into ``folder``; returns the campaign's path."""
    simulated_llm.write_tasks(folder / "tasks")
    model = {"model": "openai/sim", "api_base": server.openai_base, "max_retries": 1, "timeout": 20}
    config: dict[str, Any] = {
        "name": "runtime",
        "models": {"reference": {**model, "temperature": 1.0}, "scorer": {**model, "concurrency": 8}},
        "tasks": {
            "source": [{"name": n, "path": f"tasks/{n}.jsonl"} for n in ("claims_a", "claims_b")],
            "target": {"name": "claims_target", "path": "tasks/claims_target.jsonl"},
            "dev_size": 16,
            "test_size": 24,
        },
        "search": {
            "stage1_iterations": 1,
            "stage2_iterations": 1,
            "candidates_per_step": 2,
            "minibatch_size": 10,
            "baseline_prompts": ["You are an assistant."],
        },
        "run": {
            "store": str(folder / "runs" / "store.sqlite"),
            "cache": str(folder / "runs" / "cache.sqlite"),
        },
    }
    for section, values in overrides.items():
        config[section] = {**config.get(section, {}), **values}
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMPTFUSION_STORE"}
    return {**env, "COLUMNS": "200", "PYTHONPATH": str(REPO), **extra}


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``promptfusion ARGS`` in a subprocess; returns the finished process (never raises on exit codes)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.app", *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def popen_cli(*args: str, cwd: Path, output: int = subprocess.PIPE) -> subprocess.Popen:
    """``promptfusion ARGS`` started in a subprocess; ``output=subprocess.DEVNULL`` when nobody reads it."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli.app", *args],
        cwd=cwd,
        env=cli_env(),
        stdout=output,
        stderr=output,
        text=True,
        # A suite started in the background (``make test &``) inherits an ignored SIGINT, and so would
        # the CLI: it gets Ctrl-C's default back, as a terminal gives it.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def query(store: Path, sql: str, *args: Any) -> list[tuple]:
    """Rows of ``sql`` on the store, or [] while it (or the table) does not exist yet."""
    if not store.exists():
        return []
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []


def wait_for(condition, timeout: float = 120.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]
