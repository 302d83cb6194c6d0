"""``promptfusion tasks`` and ``promptfusion eval`` through typer, on the built-in suite and a tiny model."""

from __future__ import annotations

import json
import time

import pytest
import typer
from typer.testing import CliRunner

from orchestrator.cli import eval_cmd, tasks_cmd
from orchestrator.tasks import builtin_task_names


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """promptfusion (test shell)."""

    tasks_cmd.register(app)
    eval_cmd.register(app)
    return app


def invoke(app, *args):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result


def test_tasks_lists_every_builtin_task_with_family_and_size(app):
    result = invoke(app, "tasks")
    assert result.exit_code == 0, result.output
    for name in builtin_task_names():
        assert name in result.output
    assert "nli" in result.output and "300" in result.output


def test_tasks_names_prints_one_name_a_line(app):
    result = invoke(app, "tasks", "--names")
    assert result.exit_code == 0
    assert result.output.splitlines() == builtin_task_names()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    pytest.importorskip("torch")
    from tests.test_local_tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-cli"))


@pytest.fixture
def task_file(tmp_path):
    rows = [
        {"text": f"the film was {w}", "label": lab}
        for w, lab in [("great", "positive"), ("bad", "negative")] * 8
    ]
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_prints_accuracy_macro_f1_and_calibration(app, tiny_dir, task_file):
    result = invoke(
        app,
        "eval",
        "--model",
        f"local/{tiny_dir}",
        "--task",
        str(task_file),
        "--prompt",
        "Classify.",
        "--limit",
        "6",
    )
    assert result.exit_code == 0, result.output
    for metric in ("accuracy", "macro_f1", "ece", "brier", "auroc"):
        assert metric in result.output
    assert "reviews / dev: 4 examples" in result.output  # the dev split of 16 examples has 4
    assert "scoring=label_scores" in result.output and "failures=0" in result.output


def test_eval_by_generation_reports_instruction_following(app, tiny_dir, task_file):
    result = invoke(
        app,
        "eval",
        "--model",
        f"local/{tiny_dir}",
        "--task",
        str(task_file),
        "-p",
        "Classify.",
        "--scoring",
        "generate",
    )
    assert result.exit_code == 0, result.output
    assert "instruction_following" in result.output and "scoring=generate" in result.output
    assert "ece" not in result.output  # no probabilities without label scoring


def test_eval_needs_a_prompt_when_the_task_has_none(app, task_file):
    result = invoke(app, "eval", "--task", str(task_file))
    assert result.exit_code != 0
    assert "--prompt" in result.output


@pytest.mark.slow
def test_first_eval_on_the_embedded_model_converts_and_finishes(app, tmp_path, monkeypatch):
    """The first run of ``promptfusion eval`` on a fresh cache, conversion included.

    The time is printed, not asserted: the target (under 2 minutes on an idle 2-core machine) lives in
    benchmarks/results/local_backend.md; under load this took 317 s on a shared machine (2026-12-07), so a
    bound here fails the suite for the machine's sake, not the product's.
    """
    pytest.importorskip("torch")
    monkeypatch.setenv("PROMPTFUSION_CACHE", str(tmp_path / "fresh-cache"))
    started = time.perf_counter()
    result = invoke(app, "eval", "--task", "sports_understanding")
    elapsed = time.perf_counter() - started
    print(f"\nfirst `promptfusion eval --task sports_understanding` (conversion included): {elapsed:.1f} s")
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "sports_understanding / dev: 75 examples" in result.output
    assert (tmp_path / "fresh-cache" / "models" / "smollm2-135m-instruct" / "model.safetensors").is_file()
