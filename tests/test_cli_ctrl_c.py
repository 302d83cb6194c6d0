"""Ctrl-C at any moment of ``promptfusion run``: exit 130, one line on stderr, no traceback, and a run
that exists is left resumable (``interrupted``), never ``running`` with an empty message."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.runtime_campaign import REPO, cli_env, popen_cli, query, write_campaign

# After the interpreter's own start: the CLI's imports (0-0.5 s), creating the run and opening its
# parts (0.5-1.2 s on a quiet machine), scoring.
DELAYS = (0.0, 0.2, 0.5, 0.7, 0.85, 1.0, 1.5, 3.0)
PACKAGES = ("orchestrator", "evaluators", "soft_prompts", "prompts")


@pytest.fixture(scope="module")
def interpreter_start() -> float:
    """Seconds the interpreter takes before it runs any promptfusion code (a Ctrl-C in there is
    CPython's to report, not ours)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], env=cli_env(), check=True)
    return time.monotonic() - started


def landed_before_promptfusion_code(err: str) -> bool:
    """CPython's own report of a Ctrl-C: a traceback naming no file of this repository. Measured in CI:
    ``site`` starting up, and runpy compiling ``orchestrator/cli/app.py`` where no bytecode was cached yet
    (``source_to_code``); no handler of ours can exist before that module's first line runs. The
    virtual environment may sit inside the repository, so only the packages' own files count."""
    ours = [f'File "{REPO / package}/' for package in PACKAGES]
    return "KeyboardInterrupt" in err and "Traceback" in err and not any(frame in err for frame in ours)


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_at_any_moment_exits_130_with_one_line(tmp_path, sim_server, interpreter_start, delay):
    sim_server.latency = 0.2
    campaign = write_campaign(tmp_path, sim_server)
    store = tmp_path / "runs" / "store.sqlite"
    proc = popen_cli("run", str(campaign), "--no-report", cwd=tmp_path)
    time.sleep(interpreter_start + delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if landed_before_promptfusion_code(err):
        pytest.skip("the Ctrl-C landed in the interpreter's own start, before any promptfusion code")

    assert proc.returncode == 130, err
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if line.strip()]
    assert len(said) == 1, err
    assert said[0].startswith("interrupted"), err
    runs = query(store, "SELECT run_id, status FROM runs")
    if runs:
        ((run_id, status),) = runs
        assert status == "interrupted"
        assert said[0] == f"interrupted; resume with: promptfusion run {campaign} --resume {run_id}"
