"""Instruction following: does an output keep the task's output contract?

A contract says what a well-formed answer looks like: parsable by the task's answer extractor, one
of the labels (or exactly a label), matching a format (regex or a JSON object with given keys), and
within a length. The instruction-following rate is the share of outputs with no violation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from evaluators.confidence import parse_verbalized_confidence
from evaluators.extractors import AnswerExtractor, LabelSetExtractor

__all__ = ["ContractCheck", "OutputContract", "check_output", "instruction_following_rate"]

_EDGE = " \t\r\n.!\"'`*"


@dataclass(frozen=True)
class OutputContract:
    """What a well-formed output must satisfy; every check is optional.

    Attributes:
        labels: the extracted answer must be one of these labels.
        exact_label: the whole output, ignoring case, surrounding whitespace, quotes and a final period,
            must be a label (stricter than ``labels``, which accepts a label inside a sentence).
        pattern: the stripped output must fully match this regular expression.
        json_keys: the output must be a JSON object (code fences allowed) holding these keys.
        max_chars: at most this many characters.
        max_words: at most this many whitespace-separated words.
        require_confidence: a verbalised confidence (``Confidence: 0.8``) must be present.
    """

    labels: tuple[str, ...] | None = None
    exact_label: bool = False
    pattern: str | None = None
    json_keys: tuple[str, ...] | None = None
    max_chars: int | None = None
    max_words: int | None = None
    require_confidence: bool = False
    _compiled: re.Pattern | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))
            if not self.labels:
                raise ValueError("OutputContract.labels: give at least one label or None")
        if self.exact_label and not self.labels:
            raise ValueError("OutputContract.exact_label needs labels")
        if self.json_keys is not None:
            object.__setattr__(self, "json_keys", tuple(self.json_keys))
        for name in ("max_chars", "max_words"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"OutputContract.{name} must be >= 1, got {value}")
        if self.pattern is not None:
            try:
                object.__setattr__(self, "_compiled", re.compile(self.pattern, re.DOTALL))
            except re.error as exc:
                raise ValueError(f"OutputContract.pattern: invalid regex {self.pattern!r}: {exc}") from exc


@dataclass(frozen=True)
class ContractCheck:
    """The verdict on one output.

    Attributes:
        ok: no violation.
        violations: short codes, e.g. ``("unparsable", "too_long_words")``.
    """

    ok: bool
    violations: tuple[str, ...]


def _strip_fences(text: str) -> str:
    match = re.fullmatch(r"\s*```[a-zA-Z]*\s*\n?(.*?)\n?```\s*", text, re.DOTALL)
    return match.group(1) if match else text


def check_output(
    output: str, contract: OutputContract, extractor: AnswerExtractor | None = None
) -> ContractCheck:
    """Check one output against a contract.

    Args:
        output: the raw model output.
        contract: the task's output contract.
        extractor: the task's answer extractor; the output must yield an answer through it. With
            ``contract.labels`` and no extractor, a ``LabelSetExtractor`` over the labels is used.

    Returns:
        The verdict with every violation found.
    """
    violations: list[str] = []
    if not output.strip():
        return ContractCheck(ok=False, violations=("empty",))
    if contract.labels is not None and extractor is None:
        extractor = LabelSetExtractor(contract.labels)
    if extractor is not None:
        answer = extractor(output)
        if answer is None:
            violations.append("unparsable")
        elif contract.labels is not None and answer not in contract.labels:
            violations.append("not_in_label_set")
    if contract.exact_label and contract.labels is not None:
        folded = {label.casefold() for label in contract.labels}
        if output.strip(_EDGE).casefold() not in folded:
            violations.append("not_exactly_a_label")
    if contract._compiled is not None and not contract._compiled.fullmatch(output.strip()):
        violations.append("format_mismatch")
    if contract.json_keys is not None:
        try:
            parsed = json.loads(_strip_fences(output))
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            violations.append("not_json_object")
        elif any(key not in parsed for key in contract.json_keys):
            violations.append("missing_json_keys")
    if contract.max_chars is not None and len(output) > contract.max_chars:
        violations.append("too_long_chars")
    if contract.max_words is not None and len(output.split()) > contract.max_words:
        violations.append("too_long_words")
    if contract.require_confidence and parse_verbalized_confidence(output) is None:
        violations.append("missing_confidence")
    return ContractCheck(ok=not violations, violations=tuple(violations))


def instruction_following_rate(
    outputs: Sequence[str], contract: OutputContract, extractor: AnswerExtractor | None = None
) -> float:
    """Share of outputs that keep the contract.

    Args:
        outputs: raw model outputs.
        contract: the task's output contract.
        extractor: the task's answer extractor (see ``check_output``).

    Returns:
        A float in [0, 1]; higher is better.

    Raises:
        ValueError: no outputs.
    """
    if len(outputs) == 0:
        raise ValueError("cannot rate an empty set of outputs")
    return sum(check_output(o, contract, extractor).ok for o in outputs) / len(outputs)
