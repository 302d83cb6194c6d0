"""Label probabilities estimated from the first token's top log-probabilities."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.backends.first_token_labels import label_scores_from_first_token


def test_case_and_leading_space_variants_add_up():
    top = [("Yes", math.log(0.5)), (" yes", math.log(0.2)), ("No", math.log(0.1)), ("Maybe", math.log(0.2))]
    scores = label_scores_from_first_token(top, ["yes", "no"])
    assert scores.probs["yes"] == pytest.approx(0.7 / 0.8)
    assert scores.logprobs["yes"] == pytest.approx(math.log(0.7))


def test_a_token_shared_by_labels_is_split_and_prefix_tokens_count():
    top = [("neg", math.log(0.3)), ("ne", math.log(0.4)), ("positive", math.log(0.3))]
    scores = label_scores_from_first_token(top, ["negative", "neutral", "positive"])
    assert scores.logprobs["negative"] == pytest.approx(math.log(0.3 + 0.2))
    assert scores.logprobs["neutral"] == pytest.approx(math.log(0.2))


def test_an_absent_label_gets_the_smallest_offered_mass():
    top = [("A", math.log(0.9)), ("C", math.log(0.05))]
    scores = label_scores_from_first_token(top, ["A", "B"])
    assert scores.logprobs["B"] == pytest.approx(math.log(0.05))


def test_when_no_offered_token_starts_a_label_every_label_gets_the_kth_bound():
    # Issue 22 item 8: a label outside the top k is bounded, not a broken backend (the run says so).
    scores = label_scores_from_first_token([("Hmm", -0.1), ("Well", -2.0)], ["yes", "no"])
    assert scores.logprobs == {"yes": -2.0, "no": -2.0}
    assert scores.probs == {"yes": pytest.approx(0.5), "no": pytest.approx(0.5)}


@pytest.mark.parametrize("labels", [["yes"], ["Yes", " yes"], ["a", ""]])
def test_bad_label_sets_are_rejected(labels):
    with pytest.raises(ValueError):
        label_scores_from_first_token([("yes", -0.1)], labels)


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", " c", "C", "d", "ab", ""]), st.floats(-30, 0)),
        min_size=1,
        max_size=8,
    )
)
def test_probs_are_a_distribution(top):
    scores = label_scores_from_first_token(top, ["ab", "c", "d"])
    floor = min(logprob for _, logprob in top)
    assert all(lp >= floor - 1e-9 for lp in scores.logprobs.values())  # nothing below the k-th bound
    assert sum(scores.probs.values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in scores.probs.values())
