"""The soft section of the report: a task whose prompt never moved is named, not shown as a 0 similarity."""

from __future__ import annotations

import pytest

from orchestrator.report.errors import ReportError
from orchestrator.report.markdown import _soft
from orchestrator.report.plots import similarity_plot
from orchestrator.report.soft import validate_soft

SOFT = {
    "curves": {"source:a": [{"step": 0, "loss": None, "dev": 0.5}, {"step": 10, "loss": 0.4, "dev": 0.5}]},
    "similarity": {"tasks": ["b", "c"], "matrix": [[1.0, 0.2], [0.2, 1.0]], "untrained": ["a"]},
}


def test_untrained_sources_are_listed_beside_the_similarity_table():
    soft = validate_soft(SOFT, "run1")
    assert soft["similarity"]["untrained"] == ["a"]
    text = "\n".join(_soft({"soft": soft}))
    assert "Not trained past its start (zero task vector, left out): a" in text
    assert "| a |" not in text, "the untrained task must not get a row"


def test_no_trained_vector_at_all_says_why():
    plot = similarity_plot({"tasks": [], "matrix": [], "untrained": ["a", "b"]})
    assert "not trained past their start (a, b)" in plot


def test_similarity_shape_is_still_checked():
    bad = {"similarity": {"tasks": ["a", "b"], "matrix": [[1.0]]}}
    with pytest.raises(ReportError, match=r"result.soft.similarity.matrix: expected 2 x 2"):
        validate_soft(bad, "run1")


def test_the_soft_plan_reads_back_from_the_state_it_writes():
    # state["soft"] is plain JSON in every checkpoint; a node must read back what the previous one wrote,
    # a dev-only curve point (step 0: no loss yet) included.
    from orchestrator.soft.results import CurvePoint, SoftPlan, SourcePlan, TargetPlan, TrainedPrompt

    trained = TrainedPrompt(prompt_dir="p", curve=[CurvePoint(step=0, loss=None, dev=0.5)], best_step=0)
    plan = SoftPlan(
        model="m",
        dir="d",
        sources={"a": SourcePlan(prompt="x", trained=trained)},
        target=TargetPlan(prompt="y"),
    )
    assert SoftPlan.model_validate(plan.state()) == plan
    skipped = SoftPlan(skipped="no local twin").state()
    assert SoftPlan.model_validate(skipped).skipped == "no local twin" and skipped["skipped"]
