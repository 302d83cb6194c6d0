"""How the CLI ends after a Ctrl-C, deterministically (``test_cli_ctrl_c`` sends real signals at
chosen moments, so it finds these paths only by timing): one line on stderr and exit 130, whether a
command handled the interrupt itself or typer caught it outside any command's handling (typer exits
130 silently there)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.runtime_campaign import cli_env

COMMAND = """
from orchestrator.cli import app as cli
from orchestrator.cli.interrupt import Interrupted

@cli.app.command("handled")
def handled():
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise Interrupted("interrupted; handled by the command") from None

@cli.app.command("unhandled")
def unhandled():
    raise KeyboardInterrupt

cli.main([{which!r}])
"""


@pytest.mark.parametrize(
    ("which", "line"), [("handled", "interrupted; handled by the command"), ("unhandled", "interrupted")]
)
def test_an_interrupted_command_exits_130_with_one_line(tmp_path, which, line):
    (tmp_path / "interrupted_cli.py").write_text(COMMAND.format(which=which))
    env = cli_env()
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    # ``python -m``, as the console script and the Ctrl-C tests run it.
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_cli"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == [line]
