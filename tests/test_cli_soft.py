"""``promptfusion soft train`` and ``promptfusion vectors`` on a tiny config-built model (real training)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import simulated_llm

REPO = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli.app", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_soft_train_stores_vectors_that_the_vectors_commands_read(tmp_path):
    from soft_prompts.tiny import build_tiny_pair

    model, tokenizer = build_tiny_pair(("Claim of claims_a claims_b item holds gold yes no Answer : [ ]",))
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    tasks = simulated_llm.write_tasks(tmp_path / "tasks", n=40)
    common = [
        "--model",
        str(tmp_path / "tiny"),
        "--steps",
        "3",
        "--n-tokens",
        "4",
        "--batch-size",
        "4",
        "--train-examples",
        "8",
        "--eval-every",
        "0",
        "--store",
        "vectors",
        "--out",
        "prompts",
    ]
    for name in ("claims_a", "claims_b"):
        out = _cli(
            "soft",
            "train",
            "--task",
            str(tasks[name]),
            "--text",
            "Read the claim carefully",
            *common,
            cwd=tmp_path,
        )
        assert "trained 3 steps" in out
        # Measured like the campaign's soft rows: test-split accuracy with its interval, majority beside it.
        held_out = r"test \((\d+) examples, batch calibration\): accuracy \d\.\d{3} \[\d\.\d\d, \d\.\d\d\]; "
        majority = r"majority always '\w+' \(\d+/(\d+)\): \d\.\d{3} \[\d\.\d\d, \d\.\d\d\]"
        found = re.search(held_out + majority, out)
        assert found and found.group(1) == found.group(2), out
    _cli(
        "soft",
        "train",
        "--task",
        str(tasks["claims_target"]),
        "--init",
        "random",
        *common,
        "--peft",
        "adapter",
        cwd=tmp_path,
    )
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    listing = _cli("vectors", "list", "--store", "vectors", cwd=tmp_path)
    assert "claims_a" in listing and "claims_b" in listing
    similarity = _cli("vectors", "similarity", "claims_a", "claims_b", "--store", "vectors", cwd=tmp_path)
    assert "1.000" in similarity
    _cli(
        "vectors",
        "combine",
        "claims_a:0.5",
        "claims_b:-0.5",
        "--name",
        "a_minus_b",
        "--store",
        "vectors",
        cwd=tmp_path,
    )
    assert "a_minus_b" in _cli("vectors", "list", "--store", "vectors", cwd=tmp_path)
