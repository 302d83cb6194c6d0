"""Output contracts and the instruction-following rate."""

from __future__ import annotations

import pytest

from evaluators import OutputContract, RegexExtractor, check_output, instruction_following_rate


@pytest.mark.parametrize(
    ("output", "violations"),
    [
        ("positive", ()),
        ("I think it is negative.", ()),
        ("neutral", ("unparsable",)),
        ("   ", ("empty",)),
    ],
)
def test_label_contract(output, violations):
    check = check_output(output, OutputContract(labels=("negative", "positive")))
    assert check.violations == violations and check.ok == (not violations)


def test_exact_label_and_length_limits():
    contract = OutputContract(labels=("yes", "no"), exact_label=True, max_words=3, max_chars=20)
    assert check_output(' "Yes." ', contract).ok
    verbose = check_output("yes, because the premise clearly implies it", contract)
    assert verbose.violations == ("not_exactly_a_label", "too_long_chars", "too_long_words")


def test_extractor_answer_outside_label_set_is_flagged():
    contract = OutputContract(labels=("A", "B"))
    check = check_output("Answer: C", contract, extractor=RegexExtractor(r"answer:\s*(\w)"))
    assert check.violations == ("not_in_label_set",)


def test_regex_json_and_confidence_contracts():
    number = OutputContract(pattern=r"-?\d+")
    assert check_output(" 42\n", number).ok
    assert check_output("42 apples", number).violations == ("format_mismatch",)
    as_json = OutputContract(json_keys=("answer", "confidence"))
    assert check_output('```json\n{"answer": "x", "confidence": 0.9}\n```', as_json).ok
    assert check_output('{"answer": "x"}', as_json).violations == ("missing_json_keys",)
    assert check_output("[1, 2]", as_json).violations == ("not_json_object",)
    confident = OutputContract(labels=("yes", "no"), require_confidence=True)
    assert check_output("Answer: yes\nConfidence: 0.9", confident).ok
    assert check_output("Answer: yes", confident).violations == ("missing_confidence",)


def test_instruction_following_rate_and_validation():
    contract = OutputContract(labels=("yes", "no"), max_words=2)
    outputs = ["yes", "no", "maybe", "yes I am quite sure"]
    assert instruction_following_rate(outputs, contract) == 0.5
    with pytest.raises(ValueError, match="empty"):
        instruction_following_rate([], contract)
    with pytest.raises(ValueError, match="invalid regex"):
        OutputContract(pattern="(")
    with pytest.raises(ValueError, match="exact_label needs labels"):
        OutputContract(exact_label=True)
    with pytest.raises(ValueError, match="max_words"):
        OutputContract(max_words=0)
