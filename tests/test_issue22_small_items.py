"""Issue 22 item 14: the smaller items, each through the CLI or the Python API where a user meets it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator.store import RunStore
from tests.runtime_campaign import cli, cli_env, write_campaign


def test_runs_in_a_pipe_at_80_columns_shows_whole_run_ids(tmp_path):
    store_path = tmp_path / "store.sqlite"
    store = RunStore(store_path)
    run_ids = []
    for name in ("a-long-campaign-name-that-takes-room", "second"):
        run_id = store.create_run(name, {}, 0)
        store.set_status(run_id, "failed", "the scorer failed on sports_understanding with the baseline " * 2)
        run_ids.append(run_id)
    store.close()
    proc = cli("runs", "--store", str(store_path), cwd=tmp_path, COLUMNS="80")
    assert proc.returncode == 0, proc.stderr
    for run_id in run_ids:
        assert run_id in proc.stdout, proc.stdout


def test_api_load_then_optimize_says_the_budget_warning_once_in_the_products_words(tmp_path, sim_server):
    write_campaign(tmp_path, sim_server, budget={"max_calls": 30})
    script = (
        "from orchestrator import load_campaign, optimize\nprint(optimize(load_campaign('c.yaml')).status)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stderr.splitlines() if "budget.max_calls" in line]
    assert len(said) == 1, proc.stderr
    assert said[0].startswith("warning: c.yaml:") and "is below the" in said[0]
    assert "BudgetWarning" not in proc.stderr and ".py:" not in proc.stderr


def _target_file(tmp_path, rows, *, bom=False) -> str:
    import json

    text = "".join(json.dumps(row) + "\n" for row in rows)
    path = tmp_path / "mine.jsonl"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path.name


def _rows(count: int, labels=("yes", "no")):
    return [
        {"text": f"claim number {i} is {'true' if i % 2 else 'false'}", "label": labels[i % 2]}
        for i in range(count)
    ]


def _check(tmp_path, sim_server, target_file):
    tasks = {"target": {"name": "mine", "path": target_file}, "dev_size": 8, "test_size": 8}
    campaign = write_campaign(tmp_path, sim_server, tasks=tasks)
    return cli("check", str(campaign), cwd=tmp_path)


def test_a_jsonl_with_a_utf8_bom_is_accepted_as_csv_is(tmp_path, sim_server):
    proc = _check(tmp_path, sim_server, _target_file(tmp_path, _rows(40), bom=True))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "utf-8-sig" not in proc.stdout + proc.stderr


def test_a_label_with_one_example_is_warned_about_as_a_likely_typo(tmp_path, sim_server):
    rows = [*_rows(40), {"text": "one more claim", "label": "yse"}]
    proc = _check(tmp_path, sim_server, _target_file(tmp_path, rows))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if "only one example" in line]
    assert line.startswith("warning: ") and "c.yaml:" in line and "'yse'" in line and "mine.jsonl:41" in line
    assert "3 labels in all" in line


def test_inputs_differing_only_in_surrounding_whitespace_are_duplicates(tmp_path, sim_server):
    rows = [*_rows(40), {"text": "  claim number 3 is true \n", "label": "yes"}]
    proc = _check(tmp_path, sim_server, _target_file(tmp_path, rows))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dropped 1 example whose input repeats an earlier one" in proc.stderr
    assert "mine.jsonl:41 repeats line 4" in proc.stderr


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--max-calls", "0"], "Invalid value for --max-calls: must be at least 1, got 0"),
        (["--max-calls", "-3"], "Invalid value for --max-calls: must be at least 1, got -3"),
        (["--max-usd", "-1"], "Invalid value for --max-usd: must be more than 0 (US dollars), got -1"),
    ],
)
def test_run_refuses_budget_flags_the_file_would_refuse(tmp_path, sim_server, flags, said):
    campaign = write_campaign(tmp_path, sim_server)
    proc = cli("run", str(campaign), *flags, "--dry-run", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert said in " ".join(proc.stderr.replace("│", " ").split())
    assert "Traceback" not in proc.stderr and "ValueError" not in proc.stderr


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--steps", "0"], "Invalid value for --steps: Input should be greater than or equal to 1, got 0"),
        (["--lr", "-1"], "Invalid value for --lr: Input should be greater than 0, got -1.0"),
        (["--init", "text"], "Invalid value for --text: is required (non-empty) for --init text"),
        (["--init", "stored"], "Invalid value for --init-path: is required for --init stored"),
        (["--init", "vectors"], "Invalid value for --vectors: vector names are required for --init vectors"),
        (
            ["--text", "Answer.", "--calibration", "xx"],
            "Invalid value for --calibration: expected batch or none",
        ),
    ],
)
def test_soft_train_names_the_bad_flag(tmp_path, flags, said):
    proc = cli("soft", "train", "--task", "sports_understanding", *flags, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert said in " ".join(proc.stderr.replace("│", " ").split())
    assert "SoftConfig" not in proc.stderr and "PromptInit" not in proc.stderr


def test_resume_from_another_folder_leaves_no_empty_store_there(tmp_path, sim_server):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir(), elsewhere.mkdir()
    relative = {"store": "runs/store.sqlite", "cache": "runs/cache.sqlite"}
    campaign = write_campaign(home, sim_server, run=relative)
    proc = cli("run", str(campaign), "--resume", "20261207-000000-abcdef", cwd=elsewhere)
    assert proc.returncode == 1
    assert "no run store here" in proc.stderr, proc.stderr
    assert not list(elsewhere.rglob("*.sqlite"))
