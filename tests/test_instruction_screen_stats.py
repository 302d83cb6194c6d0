"""The instruction screen's statistics, checked against independent computations (scipy, sklearn, a
brute-force binomial sum and a plain numpy re-derivation of calibrated predictions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.metrics import balanced_accuracy_score

from benchmarks.instruction_screen_stats import (
    balanced_accuracy_ci,
    majority_rate,
    mcnemar_exact,
    predict,
    screen_task,
)
from benchmarks.instruction_screen_tasks import pick_examples

LABELS = ("positive", "negative")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_mcnemar_exact_matches_scipy_binomtest_and_a_brute_force_sum(pairs):
    correct_a, correct_b = [a for a, _ in pairs], [b for _, b in pairs]
    a_only, b_only, p = mcnemar_exact(correct_a, correct_b)
    assert a_only == sum(a and not b for a, b in pairs) and b_only == sum(b and not a for a, b in pairs)
    n = a_only + b_only
    if n == 0:
        assert p == 1.0
        return
    assert p == pytest.approx(binomtest(a_only, n, 0.5).pvalue, abs=1e-12)
    # Brute force: total probability of every split at most as likely as the observed one.
    observed = math.comb(n, a_only)
    brute = sum(math.comb(n, k) for k in range(n + 1) if math.comb(n, k) <= observed) / 2**n
    assert p == pytest.approx(min(1.0, brute), abs=1e-12)


def test_the_issue_example_eleven_against_two_gives_p_0_02():
    correct_a = [True] * 11 + [False] * 2 + [True] * 27
    correct_b = [False] * 11 + [True] * 2 + [True] * 27
    assert mcnemar_exact(correct_a, correct_b)[2] == pytest.approx(0.0225, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0, 1, 2]), min_size=4, max_size=40), st.integers(0, 2**31 - 1))
def test_balanced_accuracy_interval_is_centred_on_sklearns_value(gold, seed):
    labels = ("a", "b", "c")
    rng = np.random.default_rng(seed)
    targets = [labels[g] for g in gold]
    predictions = [labels[int(x)] for x in rng.integers(0, 3, size=len(gold))]
    ci = balanced_accuracy_ci(predictions, targets, labels)
    assert ci.estimate == pytest.approx(balanced_accuracy_score(targets, predictions))
    assert ci.low <= ci.estimate + 1e-12 and ci.estimate <= ci.high + 1e-12


def test_majority_rate_is_the_share_of_the_most_frequent_label():
    assert majority_rate(["a", "b", "a", "c", "a"]) == pytest.approx(3 / 5)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 4), st.integers(2, 30), st.integers(0, 2**31 - 1))
def test_calibrated_predictions_match_a_plain_numpy_derivation(k, n, seed):
    rng = np.random.default_rng(seed)
    logprobs = rng.normal(-5, 3, size=(n, k))
    labels = tuple(f"l{i}" for i in range(k))
    probs = np.exp(logprobs) / np.exp(logprobs).sum(axis=1, keepdims=True)
    calibrated = probs / probs.mean(axis=0)
    assert predict(logprobs, labels, "raw") == [labels[i] for i in probs.argmax(axis=1)]
    assert predict(logprobs, labels, "batch") == [labels[i] for i in calibrated.argmax(axis=1)]


def test_batch_calibration_undoes_a_constant_label_bias():
    # The model prefers "positive" by a constant 5 nats; the evidence itself separates perfectly.
    evidence = np.array([2.0, -2.0] * 10)
    logprobs = np.stack([evidence + 5.0, -evidence], axis=1)
    targets = ["positive", "negative"] * 10
    assert set(predict(logprobs, LABELS, "raw")) == {"positive"}
    assert predict(logprobs, LABELS, "batch") == targets


def test_screen_task_picks_best_and_worst_and_qualifies_only_a_significant_spread():
    targets = ["positive", "negative"] * 30
    good = [[0.0, -3.0] if t == "positive" else [-3.0, 0.0] for t in targets]
    constant = [[0.0, -1.0]] * len(targets)
    verdict = screen_task({"bare": constant, "labels@system": good}, targets, LABELS, "raw")
    assert (verdict.best, verdict.worst) == ("labels@system", "bare")
    assert verdict.scores == {"bare": 0.5, "labels@system": 1.0}
    assert (verdict.best_only, verdict.worst_only) == (30, 0) and verdict.qualifies
    same = screen_task({"a": good, "b": good}, targets, LABELS, "raw")
    assert same.p == 1.0 and not same.qualifies


def test_best_against_worst_is_tested_on_balanced_accuracy_not_right_wrong_counts():
    # 90 positive and 10 negative reviews. "bare" answers positive throughout (balanced accuracy
    # 0.50); "labels@user" gets every negative and 75 positives (0.92). Right/wrong counts favour
    # "bare" (15 vs 10, McNemar p = 0.42); the exact permutation test on balanced accuracy, the
    # screen's metric, is p = 2 (1 + 10 * 9949 / 2^15) / 2^10 (by hand: see test_evaluators_permutation).
    targets = ["positive"] * 90 + ["negative"] * 10
    bare = [[0.0, -1.0]] * 100
    labelled = [[-1.0, 0.0]] * 15 + [[0.0, -1.0]] * 75 + [[-1.0, 0.0]] * 10
    verdict = screen_task({"bare": bare, "labels@user": labelled}, targets, LABELS, "raw")
    assert (verdict.best, verdict.worst) == ("labels@user", "bare")
    assert (verdict.best_only, verdict.worst_only) == (10, 15)
    assert verdict.mcnemar_p == pytest.approx(binomtest(10, 25, 0.5).pvalue, abs=1e-12)
    assert verdict.p == pytest.approx(2 * (1 + 10 * 9949 / 2**15) / 2**10, rel=1e-12)
    assert verdict.p < 0.05 < verdict.mcnemar_p


def test_the_pick_keeps_the_label_mix_in_every_prefix():
    targets = tuple(["x"] * 60 + ["y"] * 30)
    picked = pick_examples(targets, tuple([10] * 90), 60, "seed")
    assert len(picked) == len(set(picked)) == 60
    assert sum(targets[i] == "y" for i in picked[:30]) == 10


def _brute_force_spread_p(codes, gold, k):
    """Every assignment of each example's answers to the variants (V!^n of them), equally likely."""
    import itertools

    from evaluators.label_rows import label_metric_rows

    variants, n = codes.shape

    def spread(rows):
        values = label_metric_rows(np.tile(gold, (variants, 1)), rows, k, "balanced_accuracy")
        return values.max() - values.min()

    observed = spread(codes)
    orders = list(itertools.permutations(range(variants)))
    hits = total = 0
    for choice in itertools.product(orders, repeat=n):
        rows = np.stack([codes[list(order), i] for i, order in enumerate(choice)], axis=1)
        hits += spread(rows) >= observed - 1e-9
        total += 1
    return hits / total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spread_p_matches_brute_force_over_every_reassignment(seed):
    from benchmarks.instruction_screen_stats import spread_p

    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, size=5)
    codes = np.stack([np.where(rng.random(5) < q, gold, 1 - gold) for q in (0.9, 0.5, 0.3)])
    # 5,000 draws: the standard error is at most 0.007.
    assert spread_p(codes, gold, 2) == pytest.approx(_brute_force_spread_p(codes, gold, 2), abs=0.03)


def test_picking_best_and_worst_of_many_alike_variants_is_not_evidence():
    from benchmarks.instruction_screen_stats import spread_p
    from evaluators.permutation import paired_permutation_p

    # Seven variants that are coin flips of the same quality: the best and worst differ by luck.
    # Tested as a named pair they look different; with the selection in the test they do not.
    rng = np.random.default_rng(4)
    gold = np.tile([0, 1], 36)
    codes = np.stack([np.where(rng.random(72) < 0.7, gold, 1 - gold) for _ in range(7)])
    scores = [float(np.mean(row == gold)) for row in codes]
    best, worst = codes[int(np.argmax(scores))], codes[int(np.argmin(scores))]
    pair_p = paired_permutation_p(gold, best, worst, 2, "balanced_accuracy")
    assert pair_p < 0.05 < spread_p(codes, gold, 2)  # here 0.029 against 0.27
    # Two variants: the spread is the pair's absolute difference, so both tests agree.
    two = codes[:2]
    exact = paired_permutation_p(gold, two[0], two[1], 2, "balanced_accuracy")
    assert spread_p(two, gold, 2) == pytest.approx(exact, abs=0.03)
