"""Honest soft rows: a contender that could not be built is shown as not run with its reason, never as a copy
of another row."""

from __future__ import annotations

import pytest

from orchestrator.comparison import columns, final_comparison, row_cells
from orchestrator.report.plots import comparison_plot
from orchestrator.soft.results import ComparisonRow, SoftResults

REASON = "no source prompt was trained past its start, so there is no task vector to transfer"


def _final(n: int = 8) -> dict:
    targets = ["yes", "no"] * (n // 2)
    task = {"labels": ["yes", "no"], "targets": targets, "predictions": targets, "intervals": {}}
    entry = {"prompt": "Answer yes or no.", "scores": {"accuracy": 1.0}, "per_task": {"t": task}}
    return {"test": {"baseline": entry, "winner": entry}, "metric": "accuracy", "seed": 0}


def test_a_contender_not_run_is_shown_as_not_run_with_its_reason():
    text = ComparisonRow(
        name="soft: text init",
        kind="soft",
        accuracy=0.5,
        ci=[0.2, 0.8],
        predictions=["yes", "yes", "no", "no", "yes", "yes", "no", "no"],
    )
    vector = ComparisonRow(name="soft: vector init", kind="soft", accuracy=None, not_run=REASON)
    soft = SoftResults(comparison=[text, vector]).model_dump(mode="json")
    rows = {row["name"]: row for row in final_comparison(_final(), soft)["rows"]}
    shown = dict(zip(columns("accuracy"), row_cells(rows["soft: vector init"], "accuracy"), strict=True))
    assert shown["note"] == f"not run: {REASON}"
    assert shown["accuracy [95% CI]"] == "n/a" and shown["balanced acc. [95% CI]"] == "n/a"
    # its numbers are nobody's: the text-init row keeps its own, the not-run row has none
    assert rows["soft: text init"]["scores"]["accuracy"] == pytest.approx(0.5)
    assert rows["soft: vector init"]["scores"] == {} and rows["soft: vector init"]["verdict"] is None
    plot = comparison_plot(final_comparison(_final(), soft)["rows"])
    assert "soft: text init" in plot and "soft: vector init" not in plot


def test_a_soft_row_that_is_another_rows_prompt_says_so_and_keeps_the_evaluators_numbers():
    answers = ["yes", "yes", "no", "no", "yes", "yes", "no", "no"]
    intervals = {"accuracy": [0.25, 0.75], "balanced_accuracy": [0.2, 0.8]}
    text = ComparisonRow(
        name="soft: text init",
        kind="soft",
        accuracy=0.5,
        ci=[0.25, 0.75],
        predictions=answers,
        note="the best stage-2 prompt itself: not trained past its start, so the same answers",
        scores={"accuracy": 0.5, "balanced_accuracy": 0.5},
        intervals=intervals,
    )
    soft = SoftResults(comparison=[text]).model_dump(mode="json")
    row = next(r for r in final_comparison(_final(), soft)["rows"] if r["name"] == "soft: text init")
    assert row["intervals"]["balanced_accuracy"] == [0.2, 0.8]  # the evaluator's, not a second bootstrap
    shown = dict(zip(columns("accuracy"), row_cells(row, "accuracy"), strict=True))
    assert shown["note"].startswith("the best stage-2 prompt itself")
