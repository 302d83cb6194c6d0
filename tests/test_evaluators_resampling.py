"""The bootstrap's fast per-example decompositions agree with recomputing the dimension in full."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluators.resampling import resampled_dimension
from evaluators.scoring import ExampleResult, score_dimensions
from evaluators.task import TaskSpec

LABELS = ("no", "yes", "maybe")
TASK = TaskSpec("t", labels=LABELS)


@st.composite
def results(draw):
    n = draw(st.integers(1, 25))
    out, targets = [], []
    for i in range(n):
        target = draw(st.sampled_from(LABELS))
        failed = draw(st.booleans()) and draw(st.booleans())  # about a quarter fail
        if failed:
            out.append(ExampleResult(i, None, None, None, None, False, None, error="boom"))
        else:
            weights = draw(st.lists(st.integers(1, 20), min_size=3, max_size=3))
            probs = tuple(w / sum(weights) for w in weights)
            best = max(range(3), key=lambda k: (probs[k], -k))
            rated = draw(st.sampled_from([None, True, False]))
            judged = {"judge_clarity": float(draw(st.integers(1, 5)))} if draw(st.booleans()) else {}
            prediction = LABELS[best]
            out.append(
                ExampleResult(
                    i, None, prediction, probs, probs[best], prediction == target, rated, judge_scores=judged
                )
            )
        targets.append(target)
    return out, targets


def _full(name, rs, ts, indices, *, judge=False, n_bins=10):
    picked = [rs[i] for i in indices]
    gold = [ts[i] for i in indices]
    metrics, judges = ((), (name,)) if judge else ((name,), ())
    return score_dimensions(picked, gold, TASK, metrics, judges, n_bins=n_bins, binning="uniform")[name]


@settings(max_examples=150, deadline=None)
@given(
    results(),
    st.sampled_from(
        [
            "accuracy",
            "balanced_accuracy",
            "macro_f1",
            "instruction_following",
            "brier",
            "ece",
            "judge_clarity",
        ]
    ),
)
def test_fast_path_equals_the_full_computation_on_resamples(data, name):
    rs, ts = data
    judge = name.startswith("judge_")
    fast = resampled_dimension(name, rs, ts, TASK, is_judge=judge, n_bins=10, binning="uniform")
    assert fast is not None
    matrix = np.random.default_rng(0).integers(0, len(rs), size=(5, len(rs)))
    together = fast.batched(matrix)
    for indices, batched in zip(matrix, together, strict=True):
        expected = _full(name, rs, ts, indices, judge=judge)
        for got in (fast(indices), batched):
            if math.isnan(expected):
                assert math.isnan(got)
            else:
                assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("name", "binning"), [("auroc", "uniform"), ("ece", "quantile")])
def test_dimensions_without_a_decomposition_fall_back(name, binning):
    rs = [ExampleResult(0, None, "yes", (0.2, 0.7, 0.1), 0.7, True, None)]
    assert resampled_dimension(name, rs, ["yes"], TASK, is_judge=False, n_bins=10, binning=binning) is None


def test_macro_f1_of_a_free_form_task_falls_back():
    rs = [ExampleResult(0, "x", "x", None, None, True, True)]
    free = TaskSpec("free")
    assert (
        resampled_dimension("macro_f1", rs, ["x"], free, is_judge=False, n_bins=10, binning="uniform") is None
    )


def test_the_bootstrap_gives_the_same_interval_batched_or_one_resample_at_a_time():
    from evaluators.bootstrap import bootstrap_metric_ci

    rng = np.random.default_rng(3)
    probs = [(p, 1 - p, 0.0) for p in rng.random(40)]
    rs = [ExampleResult(i, None, "no", pr, pr[0], bool(i % 3), None) for i, pr in enumerate(probs)]
    fast = resampled_dimension("ece", rs, ["no"] * 40, TASK, is_judge=False, n_bins=10, binning="uniform")
    batched = bootstrap_metric_ci(fast, 40, n_resamples=500, seed=7)
    looped = bootstrap_metric_ci(lambda idx: fast(idx), 40, n_resamples=500, seed=7)
    assert batched == looped
