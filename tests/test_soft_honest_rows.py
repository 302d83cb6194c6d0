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
