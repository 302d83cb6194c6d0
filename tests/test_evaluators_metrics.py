"""Task metrics and answer extractors: scikit-learn as the reference, plus hand-checked cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from evaluators import (
    FirstLineExtractor,
    FirstOf,
    LabelSetExtractor,
    RegexExtractor,
    accuracy,
    exact_match,
    macro_f1,
    normalize_answer,
)

LABELS = ["a", "b", "c", "d"]


@st.composite
def label_pairs(draw, allow_none: bool = False):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(2, 4))
    refs = draw(st.lists(st.sampled_from(LABELS[:k]), min_size=n, max_size=n))
    pool = LABELS[:k] + ([None] if allow_none else [])
    preds = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    return preds, refs


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_accuracy_matches_sklearn(pair):
    preds, refs = pair
    assert accuracy(preds, refs) == pytest.approx(accuracy_score(refs, preds), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(label_pairs())
def test_macro_f1_matches_sklearn_default_labels(pair):
    preds, refs = pair
    expected = f1_score(refs, preds, average="macro", zero_division=0)
    assert macro_f1(preds, refs) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(label_pairs(allow_none=True))
def test_macro_f1_with_label_set_matches_sklearn_and_none_is_a_miss(pair):
    preds, refs = pair
    # scikit-learn has no "unparsable"; map it to a sentinel class outside the averaged label set.
    sk_preds = ["<none>" if p is None else p for p in preds]
    expected = f1_score(refs, sk_preds, labels=LABELS, average="macro", zero_division=0)
    assert macro_f1(preds, refs, labels=LABELS) == pytest.approx(expected, abs=1e-9)
    assert accuracy(preds, refs) == pytest.approx(accuracy_score(refs, sk_preds), abs=1e-9)


def test_macro_f1_hand_case():
    # label x: tp=1 fp=1 fn=0 -> 2/3; label y: tp=0 fp=0 fn=1 -> 0
    assert macro_f1(["x", "x"], ["x", "y"]) == pytest.approx(1 / 3)


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        accuracy(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        macro_f1([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Eiffel Tower!", "eiffel tower"),
        ("  AN apple, a day. ", "apple day"),
        ("ＰＡＲＩＳ", "paris"),  # fullwidth letters fold under NFKC
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_normalize_answer_options_can_be_turned_off():
    assert (
        normalize_answer("The Cat.", lowercase=False, strip_punctuation=False, strip_articles=False)
        == "The Cat."
    )
    assert normalize_answer("The Cat.", lowercase=False) == "Cat"


def test_exact_match_with_multiple_references_and_unparsable():
    preds = ["the Paris", "42.", None, "london"]
    refs = ["Paris", ("forty-two", "42"), "x", "Berlin"]
    assert exact_match(preds, refs) == pytest.approx(0.5)
    assert exact_match(["Paris"], ["paris"], lowercase=False) == 0.0


def test_regex_extractor_first_last_and_named_group():
    text = "I think 3. No wait, the answer is 7. Final answer: 9"
    assert RegexExtractor(r"(\d+)")(text) == "3"
    assert RegexExtractor(r"(\d+)", last=True)(text) == "9"
    assert RegexExtractor(r"answer:\s*(?P<ans>\d+)", group="ans")(text) == "9"
    assert RegexExtractor(r"answer is (\d+)")("no number here") is None


def test_regex_extractor_rejects_bad_patterns():
    with pytest.raises(ValueError, match="invalid pattern"):
        RegexExtractor("(unclosed")
    with pytest.raises(ValueError, match="no group 2"):
        RegexExtractor(r"(\d)", group=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Positive", "positive"),
        ("Answer: NEGATIVE.", "negative"),
        ('"positive"', "positive"),
        ("I would say this review is negative overall.", "negative"),
        ("negative, not positive", "negative"),
        ("positively", None),  # no whole-word label
        ("", None),
    ],
)
def test_label_set_extractor(text, expected):
    assert LabelSetExtractor(("negative", "positive"))(text) == expected


def test_label_set_extractor_prefers_longer_overlapping_label_and_rejects_ambiguity():
    nli = LabelSetExtractor(("entailment", "not entailment"))
    assert nli("This is not entailment.") == "not entailment"
    assert nli("entailment") == "entailment"
    strict = LabelSetExtractor(("yes", "no"), ambiguous="reject")
    assert strict("yes or no? I say yes") is None
    assert strict("yes, definitely") == "yes"
    choices = LabelSetExtractor(("(A)", "(B)"))
    assert choices("The best option is (B) because") == "(B)"


def test_label_set_extractor_validates_labels():
    with pytest.raises(ValueError, match="collide"):
        LabelSetExtractor(("Yes", "yes"))
    with pytest.raises(ValueError, match="non-empty"):
        LabelSetExtractor(("", "x"))


def test_first_line_and_chain():
    assert FirstLineExtractor()("\n\n  Answer: Paris.\nBecause...") == "Paris"
    assert FirstLineExtractor(strip_prefix=False)("Answer: Paris") == "Answer: Paris"
    assert FirstLineExtractor()("   \n  ") is None
    chain = FirstOf((RegexExtractor(r"answer is (\w+)"), FirstLineExtractor()))
    assert chain("blah\nso the answer is Rome") == "Rome"
    assert chain("Madrid\nno pattern") == "Madrid"
