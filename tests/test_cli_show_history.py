"""``promptfusion show``: the history table has a column for every dimension of the run's objective."""

from __future__ import annotations

import re

from rich.console import Console

from orchestrator.cli.render import history_dimensions, print_history

SCORES = {"accuracy": 0.5, "balanced_accuracy": 0.625, "macro_f1": 0.5, "ece": 0.125}


def _candidate(cid: str, scores: dict) -> dict:
    return {"id": cid, "stage": "source", "iteration": 0, "origin": "baseline", "objective": 0.4,
            "prompt": "Answer the question.", "scores": scores}  # fmt: skip


def test_the_default_objective_puts_its_dimensions_first():
    assert history_dimensions(None, [_candidate("a", SCORES)]) == [
        "balanced_accuracy",
        "ece",
        "accuracy",
        "macro_f1",
    ]


def test_a_weighted_lexicographic_or_judged_objective_names_its_own_dimensions():
    saved = {
        "weights": {"macro_f1": 1.0, "ece": 0.0},
        "acceptance": "lexicographic",
        "lexicographic_order": ["auroc", "macro_f1"],
        "judge_dimensions": ["clarity"],
        "a_key_from_another_version": True,
    }
    dims = history_dimensions(saved, [_candidate("a", SCORES)])
    assert dims == ["macro_f1", "auroc", "judge_clarity", "accuracy", "ece"]


def test_show_prints_the_balanced_accuracy_of_each_candidate():
    out = Console(width=200, record=True)
    candidates = [_candidate("a", SCORES), _candidate("b", {**SCORES, "balanced_accuracy": 0.75})]
    print_history(
        candidates, {"winners": {"source": {"id": "b"}}}, out, {"weights": {"balanced_accuracy": 1.0}}
    )
    text = out.export_text()
    header = next(line for line in text.splitlines() if "objective" in line)
    assert re.findall(r"[a-z_0-9]+", header) == [
        "stage", "it", "origin", "objective", "balanced_accuracy", "accuracy", "macro_f1", "ece", "prompt"
    ]  # fmt: skip
    assert "0.625" in text and "0.750" in text
