"""The paired permutation test against brute force over every swap, and the verdict it words."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.metrics import balanced_accuracy_score, f1_score

from evaluators import compare_predictions, permutation
from evaluators.permutation import paired_permutation_p, sign_test_p

K = 3
# sklearn warns about classes absent from a small drawn case; the metric it returns is still the one meant.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _sklearn_metric(metric, gold, predicted):
    # Index K (no valid answer) is a wrong answer that is never a gold label.
    if metric == "balanced_accuracy":
        return balanced_accuracy_score(gold, predicted)
    if metric == "macro_f1":
        return f1_score(gold, predicted, labels=list(range(K)), average="macro", zero_division=0)
    return float(np.mean(gold == predicted))


def _brute_force_p(metric, gold, a, b):
    """Every one of the 2^m swaps of the m examples where the answers differ, equally likely."""
    observed = abs(_sklearn_metric(metric, gold, a) - _sklearn_metric(metric, gold, b))
    differ = np.flatnonzero(a != b)
    extreme = 0
    for swaps in itertools.product((False, True), repeat=differ.size):
        a2, b2 = a.copy(), b.copy()
        chosen = differ[np.array(swaps, dtype=bool)] if differ.size else differ
        a2[chosen], b2[chosen] = b[chosen], a[chosen]
        value = abs(_sklearn_metric(metric, gold, a2) - _sklearn_metric(metric, gold, b2))
        extreme += value >= observed - 1e-9
    return extreme / 2**differ.size


def _answer_pairs(max_differ):
    """Gold labels and two answer vectors that differ on at most ``max_differ`` examples."""

    def build(draw):
        n = draw(st.integers(2, 24))
        gold = np.array(draw(st.lists(st.integers(0, K - 1), min_size=n, max_size=n)))
        a = np.array(draw(st.lists(st.integers(0, K), min_size=n, max_size=n)))
        b = a.copy()
        positions = draw(st.lists(st.integers(0, n - 1), max_size=max_differ, unique=True))
        for i in positions:
            b[i] = draw(st.integers(0, K))
        return gold, a, b

    return st.composite(lambda draw: build(draw))()


@settings(max_examples=30, deadline=None)
@given(_answer_pairs(max_differ=10))
def test_exact_balanced_accuracy_equals_brute_force_over_every_swap(case):
    gold, a, b = case
    expected = _brute_force_p("balanced_accuracy", gold, a, b)
    assert paired_permutation_p(gold, a, b, K, "balanced_accuracy") == pytest.approx(expected, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(_answer_pairs(max_differ=10))
def test_accuracy_is_mcnemars_exact_test_and_equals_brute_force(case):
    gold, a, b = case
    wins, losses = int(np.sum((a == gold) & (b != gold))), int(np.sum((a != gold) & (b == gold)))
    p = paired_permutation_p(gold, a, b, K, "accuracy")
    assert p == sign_test_p(wins, losses)
    assert p == pytest.approx(_brute_force_p("accuracy", gold, a, b), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(_answer_pairs(max_differ=8))
def test_monte_carlo_macro_f1_is_close_to_brute_force(case):
    gold, a, b = case
    expected = _brute_force_p("macro_f1", gold, a, b)
    # 20,000 draws: the standard error is at most 0.0036; 0.02 is more than five of them.
    assert paired_permutation_p(gold, a, b, K, "macro_f1", seed=1) == pytest.approx(expected, abs=0.02)


def test_balanced_accuracy_past_the_exact_limit_falls_back_to_monte_carlo(monkeypatch):
    rng = np.random.default_rng(3)
    gold = rng.integers(0, K, size=60)
    a = np.where(rng.random(60) < 0.7, gold, (gold + 1) % K)
    b = np.where(rng.random(60) < 0.5, gold, (gold + 2) % K)
    exact = paired_permutation_p(gold, a, b, K, "balanced_accuracy")
    monkeypatch.setattr(permutation, "EXACT_LIMIT", 4)
    sampled = paired_permutation_p(gold, a, b, K, "balanced_accuracy", seed=0)
    assert sampled != exact and sampled == pytest.approx(exact, abs=0.02)
    assert sampled == paired_permutation_p(gold, a, b, K, "balanced_accuracy", seed=0)  # seeded


def test_identical_answers_give_p_one_and_bad_input_is_refused():
    gold = np.array([0, 1, 2, 0])
    assert paired_permutation_p(gold, gold, gold, K, "macro_f1") == 1.0
    assert paired_permutation_p(gold, gold, gold, K, "balanced_accuracy") == 1.0
    with pytest.raises(ValueError, match="unknown metric"):
        paired_permutation_p(gold, gold, gold, K, "f2")
    with pytest.raises(ValueError, match="shapes"):
        paired_permutation_p(gold, gold[:3], gold, K, "accuracy")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        paired_permutation_p(np.array([0, 3]), np.array([0, 1]), np.array([1, 0]), K, "accuracy")


def test_the_verdict_tests_the_metric_its_interval_is_on():
    # 90 examples of "a", 10 of "b". The reference is right on every "a" and no "b"; the contender on
    # every "b" and 75 of the "a". Right/wrong counts favour the reference (10 vs 15 examples, sign
    # test p = 0.42), but balanced accuracy rises from 0.50 to 0.92, and the permutation test on
    # balanced accuracy agrees with its interval. By hand: a "b" example moves the difference by
    # 1/20, an "a" one by 1/180; at least +0.417 needs all 10 "b" swaps kept, or 9 of them and at
    # least 9 of the 15 "a" ones (9949 of 2^15), and the mirror image doubles it.
    targets = ["a"] * 90 + ["b"] * 10
    reference = ["a"] * 100
    contender = ["b"] * 15 + ["a"] * 75 + ["b"] * 10
    result = compare_predictions(contender, reference, targets, ["a", "b"], reference_name="baseline")
    assert result.kind == "improved" and result.held_back is None
    assert sign_test_p(10, 15) > 0.4
    gold, a, b = (np.array([0 if v == "a" else 1 for v in x]) for x in (targets, contender, reference))
    by_hand = 2 * (1 + 10 * 9949 / 2**15) / 2**10
    assert paired_permutation_p(gold, a, b, 2, "balanced_accuracy") == pytest.approx(by_hand, rel=1e-12)
    # On accuracy the same answers are "no significant difference": the interval itself straddles zero.
    on_accuracy = compare_predictions(contender, reference, targets, ["a", "b"], metric="accuracy")
    assert on_accuracy.kind == "no significant difference"


def _integer_balanced_accuracy_p(gold, a, b, k):
    """The exact p-value with integers only: every step scaled by the lcm of k_present * n_c."""
    support = np.bincount(gold, minlength=k)
    present = int(np.count_nonzero(support))
    scale = math.lcm(*(present * int(n) for n in support if n))
    counts, observed = {0: 1}, 0
    for c in np.flatnonzero(support):
        wins = int(np.sum((a == gold) & (b != gold) & (gold == c)))
        losses = int(np.sum((a != gold) & (b == gold) & (gold == c)))
        unit, m = scale // (present * int(support[c])), wins + losses
        observed += unit * (wins - losses)
        grown = {}
        for value, count in counts.items():
            for j in range(m + 1):
                key = value + unit * (2 * j - m)
                grown[key] = grown.get(key, 0) + count * math.comb(m, j)
        counts = grown
    total = sum(counts.values())
    return sum(count for value, count in counts.items() if abs(value) >= abs(observed)) / total


@settings(max_examples=80, deadline=None)
@given(st.integers(3, 5), st.integers(3, 60), st.integers(0, 2**32 - 1))
def test_exact_balanced_accuracy_equals_an_integer_only_convolution_for_several_classes(k, n, seed):
    # Ties between sums of 1/(k * n_c) in different orders are where float rounding bites.
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, k, size=n)
    a = np.where(rng.random(n) < 0.5, gold, rng.integers(0, k + 1, size=n))
    b = np.where(rng.random(n) < 0.5, gold, rng.integers(0, k + 1, size=n))
    expected = _integer_balanced_accuracy_p(gold, a, b, k)
    assert paired_permutation_p(gold, a, b, k, "balanced_accuracy") == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("gold", "a", "b", "k"),
    [  # found by review: the grid-snapped convolution gave 0.75 and 0.441 here
        ([2, 2, 1, 0, 2, 2, 2, 1, 2], [1, 3, 1, 1, 2, 3, 0, 1, 2], [3, 0, 1, 0, 3, 0, 1, 2, 2], 3),
        (
            [1, 2, 0, 3, 3, 0, 3, 3, 2, 0, 3, 0, 2, 0, 3, 3, 0, 0],
            [1, 2, 0, 1, 3, 0, 0, 1, 4, 0, 0, 0, 1, 0, 1, 0, 0, 0],
            [1, 2, 0, 3, 3, 3, 3, 3, 2, 4, 3, 1, 0, 0, 3, 4, 1, 0],
            4,
        ),
    ],
)
def test_ties_between_class_sums_stay_in_the_tail(gold, a, b, k):
    gold, a, b = np.array(gold), np.array(a), np.array(b)
    expected = (
        _brute_force_p("balanced_accuracy", gold, a, b)
        if k == 3
        else _integer_balanced_accuracy_p(gold, a, b, k)
    )
    assert expected == pytest.approx(_integer_balanced_accuracy_p(gold, a, b, k))
    assert paired_permutation_p(gold, a, b, k, "balanced_accuracy") == pytest.approx(expected, abs=1e-12)


def test_many_differing_examples_are_tested_without_big_integers():
    # 11,800 discordant examples: the binomial tail in log space matches scipy's.
    assert sign_test_p(6000, 5800) == pytest.approx(binomtest(6000, 11800, 0.5).pvalue, rel=1e-9)
    gold = np.array([0] * 20_000 + [1] * 100)
    a = np.where(np.arange(20_100) % 3 == 0, 1 - gold, gold)
    b = np.where(np.arange(20_100) % 3 == 1, 1 - gold, gold)
    p = paired_permutation_p(gold, a, b, 2, "balanced_accuracy")
    assert 0 < p <= 1


def test_a_gold_label_outside_the_label_set_is_refused_by_name():
    with pytest.raises(ValueError, match=r"outside the label set \['a', 'b'\]: \['c'\]"):
        compare_predictions(["a", "b"], ["b", "a"], ["a", "c"], ["a", "b"])
