"""Dimensions, the weighted objective, Pareto fronts, acceptance policies and the bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from evaluators import (
    STANDARD_DIMENSIONS,
    AcceptancePolicy,
    Dimension,
    accept,
    best_index,
    bootstrap_ci,
    bootstrap_metric_ci,
    dominates,
    lexicographic_compare,
    non_dominated_sort,
    paired_bootstrap,
    pareto_front,
    weighted_objective,
)


def test_dimension_normalisation_and_validation():
    ece = STANDARD_DIMENSIONS["ece"]
    assert ece.normalize(0.0) == 1.0 and ece.normalize(0.25) == 0.75
    judge = STANDARD_DIMENSIONS["judge_clarity"]
    assert judge.normalize(1) == 0.0 and judge.normalize(4) == 0.75 and judge.failure_score == 1.0
    assert math.isnan(STANDARD_DIMENSIONS["auroc"].normalize(math.nan))
    assert STANDARD_DIMENSIONS["accuracy"].normalize(1.0000000001) == 1.0  # float noise is clipped
    assert ece.better(0.1, 0.2) and not ece.better(0.2, 0.1)
    with pytest.raises(ValueError, match="direction"):
        Dimension("x", "up", 0, 1)
    with pytest.raises(ValueError, match="low < high"):
        Dimension("x", "max", 1, 1)
    with pytest.raises(ValueError, match="failure_score"):
        Dimension("x", "max", 1, 5, failure_score=0)


def test_weighted_objective_renormalises_around_undefined_dimensions():
    scores = {"accuracy": 0.8, "ece": 0.9, "auroc": math.nan}
    assert weighted_objective(scores, {"accuracy": 3, "ece": 1}) == pytest.approx(0.825)
    assert weighted_objective(scores, {"accuracy": 1, "auroc": 1}) == pytest.approx(0.8)
    assert math.isnan(weighted_objective(scores, {"auroc": 1}))
    with pytest.raises(ValueError, match="no score for weighted dimensions"):
        weighted_objective(scores, {"brier": 1})
    with pytest.raises(ValueError, match="non-negative"):
        weighted_objective(scores, {"accuracy": -1})


points_strategy = st.integers(1, 3).flatmap(
    lambda width: st.lists(
        st.lists(st.integers(0, 5).map(float), min_size=width, max_size=width), min_size=0, max_size=25
    ).map(lambda pts: (pts, width))
)


@settings(max_examples=300, deadline=None)
@given(points_strategy, st.data())
def test_pareto_front_properties(generated, data):
    points, width = generated
    directions = data.draw(st.lists(st.sampled_from(["max", "min"]), min_size=width, max_size=width))
    front = pareto_front(points, directions)
    members = set(front)
    for i in front:  # no member of the front is dominated by any point
        assert not any(dominates(points[j], points[i], directions) for j in range(len(points)))
    for i in set(range(len(points))) - members:  # every other point is dominated by a front member
        assert any(dominates(points[j], points[i], directions) for j in front)
    # The fronts of a non-dominated sort partition the points, each front dominated only by earlier ones.
    fronts = non_dominated_sort(points, directions)
    assert sorted(i for f in fronts for i in f) == list(range(len(points)))
    for depth, layer in enumerate(fronts):
        later = {i for f in fronts[depth:] for i in f}
        for i in layer:
            assert not any(dominates(points[j], points[i], directions) for j in later)


def test_pareto_front_hand_case_with_directions_and_duplicates():
    # (accuracy, ece): higher accuracy and lower ece are better.
    points = [(0.9, 0.30), (0.8, 0.05), (0.7, 0.20), (0.9, 0.30), (0.85, 0.05)]
    assert pareto_front(points, ["max", "min"]) == [0, 3, 4]
    assert non_dominated_sort(points, ["max", "min"]) == [[0, 3, 4], [1], [2]]
    assert pareto_front(points, ["max", "max"]) == [0, 3]
    assert pareto_front([], ["max"]) == []
    with pytest.raises(ValueError, match="directions"):
        pareto_front([(1.0, 2.0)], ["max"])
    with pytest.raises(ValueError, match="nan"):
        dominates((math.nan,), (1.0,), ["max"])


# Normalised scores of two prompts on a task: A more accurate, B far better calibrated.
ACCURATE = {"accuracy": 0.80, "ece": 0.70}
CALIBRATED = {"accuracy": 0.76, "ece": 0.95}


def test_weighted_and_pareto_acceptance_decide_differently():
    weighted = AcceptancePolicy(kind="weighted", weights={"accuracy": 1.0, "ece": 0.1})
    pareto = AcceptancePolicy(kind="pareto", weights={"accuracy": 1.0, "ece": 0.1})
    assert not accept(CALIBRATED, [ACCURATE], weighted).accepted
    decision = accept(CALIBRATED, [ACCURATE], pareto)
    assert decision.accepted and "no incumbent dominates" in decision.reason
    dominated = {"accuracy": 0.75, "ece": 0.60}
    assert not accept(dominated, [ACCURATE, CALIBRATED], pareto).accepted
    assert accept(dominated, [], weighted).accepted


def test_weighted_min_improvement_and_pareto_skips_undefined():
    policy = AcceptancePolicy(kind="weighted", weights={"accuracy": 1.0}, min_improvement=0.05)
    assert not accept({"accuracy": 0.83}, [{"accuracy": 0.80}], policy).accepted
    assert accept({"accuracy": 0.86}, [{"accuracy": 0.80}], policy).accepted
    pareto = AcceptancePolicy(kind="pareto", weights={"accuracy": 1.0, "auroc": 1.0})
    decision = accept({"accuracy": 0.7, "auroc": math.nan}, [{"accuracy": 0.8, "auroc": math.nan}], pareto)
    assert not decision.accepted and "['accuracy']" in decision.reason


def test_lexicographic_acceptance_uses_tolerance_then_next_dimension():
    policy = AcceptancePolicy(kind="lexicographic", order=["accuracy", "ece"], tolerance=0.05)
    # Accuracy within tolerance: a tie, so the better calibration decides.
    assert accept(CALIBRATED, [ACCURATE], policy).accepted
    strict = AcceptancePolicy(kind="lexicographic", order=["accuracy", "ece"], tolerance=0.0)
    assert not accept(CALIBRATED, [ACCURATE], strict).accepted
    assert lexicographic_compare(ACCURATE, ACCURATE, ["accuracy", "ece"], 0.0) == 0
    assert best_index([ACCURATE, CALIBRATED], policy) == 1
    assert best_index([ACCURATE, CALIBRATED], strict) == 0


def test_acceptance_policy_config_is_strict():
    with pytest.raises(ValidationError, match="extra"):
        AcceptancePolicy(kind="weighted", wieghts={"accuracy": 1})
    with pytest.raises(ValidationError, match="kind"):
        AcceptancePolicy(kind="greedy")
    with pytest.raises(ValidationError, match="not all be zero"):
        AcceptancePolicy(weights={"accuracy": 0.0})
    with pytest.raises(ValueError, match="no score for"):
        accept({"ece": 0.1}, [{"ece": 0.2}], AcceptancePolicy(kind="lexicographic"))
    assert AcceptancePolicy(kind="pareto", weights={"ece": 1, "accuracy": 2}).dimensions == [
        "accuracy",
        "ece",
    ]


def test_bootstrap_is_seeded_and_covers_the_estimate():
    values = np.r_[np.ones(70), np.zeros(30)]
    first = bootstrap_ci(values, seed=3)
    assert first == bootstrap_ci(values, seed=3)
    continuous = np.random.default_rng(0).random(50)
    assert bootstrap_ci(continuous, seed=3) != bootstrap_ci(continuous, seed=4)
    assert first.estimate == pytest.approx(0.7)
    assert first.low < 0.7 < first.high
    # Binomial standard error is ~0.046, so the 95% interval spans about +-0.09.
    assert 0.13 < first.high - first.low < 0.23
    constant = bootstrap_ci([0.5] * 10)
    assert constant.low == constant.high == 0.5


def test_bootstrap_metric_and_paired_comparison():
    rng = np.random.default_rng(0)
    a = (rng.random(200) < 0.8).astype(float)
    b = (rng.random(200) < 0.6).astype(float)
    interval = bootstrap_metric_ci(lambda idx: float(a[idx].mean()), 200, n_resamples=500)
    assert interval.low < a.mean() < interval.high and interval.n_resamples == 500
    comparison = paired_bootstrap(lambda i: float(a[i].mean()), lambda i: float(b[i].mean()), 200)
    assert comparison.difference.estimate == pytest.approx(a.mean() - b.mean())
    assert comparison.difference.low > 0 and comparison.prob_a_better > 0.99
    undefined = bootstrap_metric_ci(lambda idx: math.nan, 5, n_resamples=10)
    assert undefined.n_resamples == 0 and math.isnan(undefined.low)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0], confidence=1.5)
