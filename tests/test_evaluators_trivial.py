"""Balanced accuracy, trivial baselines, the constant-predictor flag and significance wording."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import balanced_accuracy_score, f1_score

from evaluators import balanced_accuracy, compare_predictions, dominant_answer, macro_f1, trivial_baselines
from evaluators.bootstrap import ConfidenceInterval
from evaluators.label_rows import encode_labels, label_metric_rows
from evaluators.permutation import sign_test_p
from evaluators.significance import verdict

LABELS = ["a", "b", "c"]
label_lists = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.sampled_from(LABELS), min_size=n, max_size=n),
        st.lists(st.sampled_from(LABELS), min_size=n, max_size=n),
    )
)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=150, deadline=None)
@given(label_lists)
def test_balanced_accuracy_matches_sklearn(pair):
    references, predictions = pair
    assert balanced_accuracy(predictions, references) == pytest.approx(
        balanced_accuracy_score(references, predictions), abs=1e-12
    )


@settings(max_examples=150, deadline=None)
@given(label_lists)
def test_row_metrics_equal_the_scalar_metrics(pair):
    references, predictions = pair
    gold, predicted = encode_labels(references, LABELS), encode_labels(predictions, LABELS)
    assert label_metric_rows(gold, predicted, 3, "balanced_accuracy")[0] == pytest.approx(
        balanced_accuracy(predictions, references, labels=LABELS)
    )
    assert label_metric_rows(gold, predicted, 3, "macro_f1")[0] == pytest.approx(
        f1_score(references, predictions, labels=LABELS, average="macro", zero_division=0)
    )
    assert label_metric_rows(gold, predicted, 3, "accuracy")[0] == pytest.approx(
        np.mean(np.array(references) == np.array(predictions))
    )


def test_a_constant_answer_scores_chance_balanced_accuracy_whatever_the_shares():
    references = ["a"] * 45 + ["b"] * 15
    assert balanced_accuracy(["a"] * 60, references) == 0.5
    assert balanced_accuracy(["b"] * 60, references) == 0.5
    assert balanced_accuracy([None] * 60, references) == 0.0
    # macro-F1 of the same constant answer depends on the shares: 2p/(1+p)/k.
    assert macro_f1(["a"] * 60, references) == pytest.approx(2 * 0.75 / 1.75 / 2)


def test_trivial_baselines_on_a_hand_made_split():
    targets = ["no"] * 38 + ["yes"] * 22  # 60 examples, majority 'no' = 38/60
    majority, uniform = trivial_baselines(targets, ["yes", "no"], seed=3)
    assert majority.name == "majority" and majority.description == "always 'no' (38/60)"
    assert majority.scores["accuracy"] == pytest.approx(38 / 60)
    assert majority.scores["balanced_accuracy"] == pytest.approx(0.5)
    p = 38 / 60
    assert majority.scores["macro_f1"] == pytest.approx((2 * p / (1 + p)) / 2)
    low, high = majority.intervals["accuracy"]
    assert low < 38 / 60 < high and high - low > 0.1  # the share itself varies over resamples
    assert majority.intervals["balanced_accuracy"] == (0.5, 0.5)
    assert uniform.scores["accuracy"] == 0.5 and uniform.scores["balanced_accuracy"] == 0.5
    # Expected macro-F1 of random answers: per class 2 * p_c * (1/k) / (p_c + 1/k), on average.
    expected_f1 = np.mean([2 * s * 0.5 / (s + 0.5) for s in (38 / 60, 22 / 60)])
    assert uniform.scores["macro_f1"] == pytest.approx(expected_f1, abs=0.01)
    low, high = uniform.intervals["accuracy"]
    assert 0.35 < low < 0.5 < high < 0.65


def test_trivial_baselines_break_ties_by_label_order_and_refuse_foreign_targets():
    majority, _ = trivial_baselines(["b", "a", "a", "b"], ["b", "a"], n_draws=50)
    assert majority.description == "always 'b' (2/4)"
    with pytest.raises(ValueError, match="not in labels"):
        trivial_baselines(["a", "z"], ["a", "b"])


def test_constant_predictor_flag():
    answers = ["non-entailment"] * 58 + ["entailment"] * 2
    flag = dominant_answer(answers)
    assert flag is not None and flag.text == "answers 'non-entailment' for 58/60"
    assert dominant_answer(["x"] * 9 + ["y"]).text == "answers 'x' for 9/10"  # exactly 90% is flagged
    assert dominant_answer(["x"] * 8 + ["y"] * 2) is None
    assert dominant_answer([None] * 10).text == "gives no parsable answer for 10/10"
    assert dominant_answer([]) is None


def test_significance_says_improved_only_when_the_interval_excludes_zero():
    rng = np.random.default_rng(0)
    targets = list(rng.choice(["a", "b"], size=80))
    flip = {"a": "b", "b": "a"}
    # The reference is right on half the examples; the strong contender on all but four.
    reference = [t if i % 2 else flip[t] for i, t in enumerate(targets)]
    strong = [t if i >= 4 else flip[t] for i, t in enumerate(targets)]
    better = compare_predictions(strong, reference, targets, ["a", "b"], reference_name="baseline prompt")
    assert better.kind == "improved" and better.difference.low > 0
    assert better.text.startswith("improved (+0.") and better.reference == "baseline prompt"
    # A contender that differs from the reference on two examples only: no significant difference.
    close = list(reference)
    for i in (0, 2):
        close[i] = targets[i]
    same = compare_predictions(close, reference, targets, ["a", "b"], metric="accuracy")
    assert same.kind == "no significant difference"
    assert same.difference.low <= 0 <= same.difference.high
    assert same.text == (
        f"no significant difference ({same.difference.estimate:+.2f} "
        f"[{same.difference.low:+.2f}, {same.difference.high:+.2f}])"
    )
    worse = compare_predictions(reference, strong, targets, ["a", "b"])
    assert worse.kind == "worse" and worse.text.startswith("worse (-0.")


def test_a_direction_on_few_differing_examples_is_held_back_by_the_permutation_test():
    # Two test examples, the contender right on both, the reference on neither: every bootstrap
    # resample differs by +1, so the interval alone would say "improved (+1.00 [+1.00, +1.00])".
    tiny = compare_predictions(["a", "b"], ["b", "a"], ["a", "b"], ["a", "b"], metric="accuracy")
    assert tiny.difference.low == tiny.difference.high == 1.0
    assert tiny.kind == "no significant difference"
    assert tiny.text == (
        "no significant difference (+1.00 [+1.00, +1.00]; "
        "only 2 examples differ (2 vs 0), permutation test p = 0.50)"
    )
    # Five of five differing examples won: p = 0.0625, still no direction; six of six: p = 0.031.
    targets = ["a"] * 30
    five = compare_predictions(["a"] * 30, ["b"] * 5 + ["a"] * 25, targets, ["a", "b"], metric="accuracy")
    assert five.kind == "no significant difference" and "only 5 examples differ" in five.text
    six = compare_predictions(["a"] * 30, ["b"] * 6 + ["a"] * 24, targets, ["a", "b"], metric="accuracy")
    assert six.kind == "improved" and six.held_back is None


@given(st.integers(0, 40), st.integers(0, 40))
def test_the_sign_test_is_symmetric_and_a_probability(wins, losses):
    p = sign_test_p(wins, losses)
    assert 0 < p <= 1 and p == sign_test_p(losses, wins)
    if wins == losses:
        assert p == 1.0


def test_verdict_wording_format():
    text = verdict(ConfidenceInterval(0.03, -0.08, 0.13, 0.95, 1000), metric="accuracy", reference="x").text
    assert text == "no significant difference (+0.03 [-0.08, +0.13])"


def test_a_bound_that_rounds_to_zero_keeps_its_sign_visible():
    text = verdict(ConfidenceInterval(0.15, 0.00036, 0.3, 0.95, 1000), metric="m", reference="x").text
    assert text == "improved (+0.15 [+0.00036, +0.30])"
