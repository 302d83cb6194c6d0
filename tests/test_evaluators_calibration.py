"""Calibration and discrimination: hand-computed ECE, scikit-learn as the reference for the rest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from evaluators import (
    auprc,
    auprc_negative,
    auroc,
    brier_score,
    confidence_to_probs,
    ece_from_confidences,
    expected_calibration_error,
    parse_verbalized_answer,
    parse_verbalized_confidence,
    reliability_bins,
)

# Six binary examples: (probs, label) -> top confidence, correct?
#   A .9 right, B .8 wrong, C .6 right, D .5 (tie, arg-max is class 0) wrong, E .7 right, F .95 right
HAND_PROBS = [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5], [0.3, 0.7], [0.05, 0.95]]
HAND_LABELS = [0, 0, 1, 1, 1, 1]


def test_ece_uniform_hand_computed():
    # 4 bins (0,.25] (.25,.5] (.5,.75] (.75,1]; D sits exactly on the .5 edge and goes to (.25,.5].
    #   (.25,.5]: D            conf .5,   acc 0    -> gap .5,    weight 1
    #   (.5,.75]: C, E         conf .65,  acc 1    -> gap .35,   weight 2
    #   (.75,1]:  A, B, F      conf .8833, acc 2/3 -> gap .21667, weight 3
    expected = (1 * 0.5 + 2 * 0.35 + 3 * (0.9 + 0.8 + 0.95 - 2) / 3) / 6
    assert expected == pytest.approx(1.85 / 6)
    assert expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=4) == pytest.approx(expected, abs=1e-12)


def test_ece_quantile_hand_computed():
    # Sorted confidences D .5, C .6, E .7, B .8, A .9, F .95 cut into 3 bins of two:
    #   [D, C] conf .55 acc .5 -> .05; [E, B] conf .75 acc .5 -> .25; [A, F] conf .925 acc 1 -> .075
    got = expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=3, strategy="quantile")
    assert got == pytest.approx((0.05 + 0.25 + 0.075) / 3, abs=1e-12)


def test_ece_quantile_uneven_split_and_multiclass_uniform():
    # 7 examples in 3 quantile bins: sizes 3, 2, 2 (the first bins take the remainder).
    conf = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    ok = [0, 0, 1, 0, 1, 1, 1]
    expected = (3 * abs(1 / 3 - 0.2) + 2 * abs(0.5 - 0.45) + 2 * abs(1 - 0.65)) / 7
    assert ece_from_confidences(conf, ok, n_bins=3, strategy="quantile") == pytest.approx(expected, abs=1e-12)
    probs = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]
    # 2 uniform bins: (0,.5] holds the wrong .5; (.5,1] holds .6 and .8, both right.
    assert expected_calibration_error(probs, [0, 2, 2], n_bins=2) == pytest.approx((0.5 + 2 * 0.3) / 3)


def test_reliability_bins_agree_with_ece():
    bins = reliability_bins(HAND_PROBS, HAND_LABELS, n_bins=4)
    assert [b.count for b in bins] == [0, 1, 2, 3]
    assert math.isnan(bins[0].accuracy) and bins[0].lower == 0.0 and bins[0].upper == 0.25
    assert bins[3].accuracy == pytest.approx(2 / 3) and bins[3].mean_confidence == pytest.approx(2.65 / 3)
    ece = sum(b.count * abs(b.accuracy - b.mean_confidence) for b in bins if b.count) / 6
    assert ece == pytest.approx(expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=4))
    quantile = reliability_bins(HAND_PROBS, HAND_LABELS, n_bins=3, strategy="quantile")
    assert [(b.lower, b.upper, b.count) for b in quantile] == [(0.5, 0.6, 2), (0.7, 0.8, 2), (0.9, 0.95, 2)]


@st.composite
def prob_tables(draw, min_k: int = 2, max_k: int = 4):
    """(probs, labels, k): integer weights give many exact ties, which the rank metrics must handle."""
    k = draw(st.integers(min_k, max_k))
    n = draw(st.integers(2, 40))
    weights = np.array(
        draw(st.lists(st.lists(st.integers(1, 6), min_size=k, max_size=k), min_size=n, max_size=n))
    )
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return weights / weights.sum(axis=1, keepdims=True), labels, k


@settings(max_examples=150, deadline=None)
@given(prob_tables(), st.sampled_from([1, 5, 10]))
def test_ece_properties(table, n_bins):
    probs, labels, _ = table
    for strategy in ("uniform", "quantile"):
        ece = expected_calibration_error(probs, labels, n_bins=n_bins, strategy=strategy)
        assert 0.0 <= ece <= 1.0
    conf, ok = probs.max(axis=1), probs.argmax(axis=1) == labels
    # One bin: the gap between mean confidence and accuracy.
    assert expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(abs(conf.mean() - ok.mean()))


@settings(max_examples=150, deadline=None)
@given(prob_tables(min_k=2, max_k=2))
def test_binary_metrics_match_sklearn(table):
    probs, labels, _ = table
    assert brier_score(probs, labels) == pytest.approx(brier_score_loss(labels, probs[:, 1]), abs=1e-9)
    assert brier_score(probs[:, 1], labels) == pytest.approx(brier_score_loss(labels, probs[:, 1]), abs=1e-9)
    assume(0 < labels.sum() < len(labels))
    assert auroc(probs, labels) == pytest.approx(roc_auc_score(labels, probs[:, 1]), abs=1e-9)
    assert auprc(probs, labels) == pytest.approx(average_precision_score(labels, probs[:, 1]), abs=1e-9)
    pr_n = average_precision_score(labels == 0, 1.0 - probs[:, 1])
    assert auprc_negative(probs, labels) == pytest.approx(pr_n, abs=1e-9)
    # Class 0 as the positive class mirrors the roles.
    assert auroc(probs, labels, positive=0) == pytest.approx(
        roc_auc_score(labels == 0, probs[:, 0]), abs=1e-9
    )


@settings(max_examples=150, deadline=None)
@given(prob_tables(min_k=3, max_k=4))
def test_multiclass_metrics_match_sklearn(table):
    probs, labels, k = table
    expected_brier = brier_score_loss(labels, probs, labels=list(range(k)))
    assert brier_score(probs, labels) == pytest.approx(expected_brier, abs=1e-9)
    assume(len(set(labels.tolist())) == k)
    expected_auroc = roc_auc_score(labels, probs, multi_class="ovr", average="macro")
    assert auroc(probs, labels) == pytest.approx(expected_auroc, abs=1e-9)
    onehot = np.eye(k)[labels]
    assert auprc(probs, labels) == pytest.approx(
        average_precision_score(onehot, probs, average="macro"), abs=1e-9
    )
    expected_neg = np.mean([average_precision_score(labels != c, 1.0 - probs[:, c]) for c in range(k)])
    assert auprc_negative(probs, labels) == pytest.approx(expected_neg, abs=1e-9)


def test_rank_metrics_are_nan_with_one_class_and_skip_it_in_macro():
    assert math.isnan(auroc([[0.3, 0.7], [0.6, 0.4]], [1, 1]))
    assert math.isnan(auprc([[0.3, 0.7], [0.6, 0.4]], [0, 0]))
    # Class 2 never occurs: macro AUROC averages classes 0 and 1 only.
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    labels = [0, 1, 1]
    per_class = [roc_auc_score(np.array(labels) == c, probs[:, c]) for c in (0, 1)]
    assert auroc(probs, labels) == pytest.approx(np.mean(per_class))


@pytest.mark.parametrize(
    ("probs", "labels", "message"),
    [
        ([[0.5, 0.6]], [0], "sums to"),
        ([[0.5, 0.5]], [2], r"labels must lie in \[0, 2\)"),
        ([[0.5, 0.5], [0.5, 0.5]], [0], r"labels must have shape \(2,\)"),
        ([[1.5, -0.5]], [0], "inside"),
        ([[0.5, 0.5]], [0.5], "integer"),
    ],
)
def test_probability_validation_names_the_problem(probs, labels, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(probs, labels)


def test_ece_rejects_bad_binning():
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error(HAND_PROBS, HAND_LABELS, strategy="equal")
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(HAND_PROBS, HAND_LABELS, n_bins=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: positive\nConfidence: 0.8", 0.8),
        ("Answer: yes. Confidence: 80%", 0.8),
        ("confidence = .35", 0.35),
        ("My confidence level is 7/10", 0.7),
        ("Confidence: 85/100", 0.85),
        ("Confidence: 90", 0.9),
        ("confidence of 60 percent", 0.6),
        ("Confidence: 0.2 ... on reflection, Confidence: 0.9", 0.9),
        ("Confidence: 150", None),
        ("Answer: no", None),
    ],
)
def test_parse_verbalized_confidence(text, expected):
    got = parse_verbalized_confidence(text)
    assert got == (None if expected is None else pytest.approx(expected))


def test_parse_verbalized_answer_and_probs():
    parsed = parse_verbalized_answer("Reasoning first.\nAnswer: Negative\nConfidence: 0.7")
    assert parsed.answer == "Negative" and parsed.confidence == pytest.approx(0.7)
    bare = parse_verbalized_answer("negative\nConfidence: 60%")
    assert bare.answer == "negative" and bare.confidence == pytest.approx(0.6)
    assert confidence_to_probs(2, 0.7, 3).tolist() == pytest.approx([0.15, 0.15, 0.7])
    assert confidence_to_probs(None, 0.7, 4).tolist() == pytest.approx([0.25] * 4)
    with pytest.raises(ValueError, match="out of range"):
        confidence_to_probs(3, 0.5, 3)
