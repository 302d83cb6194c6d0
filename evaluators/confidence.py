"""Verbalised confidence: calibration for hosted backends that give no log-probabilities.

The prompt asks the model to end with a line like ``Confidence: 0.8`` (or ``80%``, ``8/10``). The
parsed number is the confidence in the stated answer; ``confidence_to_probs`` turns it into a label
distribution so the Brier score and AUROC can be computed as for label-likelihood scoring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = [
    "VerbalizedAnswer",
    "confidence_to_probs",
    "parse_verbalized_answer",
    "parse_verbalized_confidence",
]

_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_CONFIDENCE = re.compile(
    rf"\bconfidence(?:\s+(?:level|score))?\s*(?:is|of|=|:|-)?\s*:?\s*{_NUMBER}\s*(%|percent\b|/\s*(?:100|10|1)\b)?",
    re.IGNORECASE,
)
_CONFIDENCE_LINE = re.compile(r"^[^\n]*\bconfidence\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_ANSWER_LINE = re.compile(r"^\s*(?:final\s+)?answer\s*[:\-]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class VerbalizedAnswer:
    """An output split into its answer text and stated confidence.

    Attributes:
        answer: the ``Answer:`` line's value if there is one, else the output without confidence lines.
        confidence: the stated confidence in [0, 1], or ``None`` when absent or unreadable.
    """

    answer: str
    confidence: float | None


def parse_verbalized_confidence(text: str) -> float | None:
    """Read a stated confidence from an output.

    Accepted forms (case-insensitive, the last mention wins because models restate): ``Confidence: 0.8``,
    ``confidence = .8``, ``Confidence: 80%``, ``confidence of 80 percent``, ``Confidence: 8/10``,
    ``Confidence: 85/100``. A bare number above 1 and at most 100 is read as a percentage.

    Args:
        text: the model output.

    Returns:
        The confidence in [0, 1], or ``None`` when there is none or it is out of range.
    """
    matches = list(_CONFIDENCE.finditer(text))
    if not matches:
        return None
    value_text, unit = matches[-1].group(1), (matches[-1].group(2) or "").replace(" ", "").lower()
    value = float(value_text)
    if unit in ("%", "percent", "/100"):
        value /= 100.0
    elif unit == "/10":
        value /= 10.0
    elif unit == "" and 1.0 < value <= 100.0:
        value /= 100.0
    return value if 0.0 <= value <= 1.0 else None


def parse_verbalized_answer(text: str) -> VerbalizedAnswer:
    """Split an ``Answer: X`` / ``Confidence: c`` output into answer and confidence.

    Args:
        text: the model output.

    Returns:
        The answer text (for an answer extractor) and the confidence.
    """
    confidence = parse_verbalized_confidence(text)
    match = _ANSWER_LINE.search(text)
    answer = match.group(1) if match else _CONFIDENCE_LINE.sub("", text).strip()
    return VerbalizedAnswer(answer=answer, confidence=confidence)


def confidence_to_probs(predicted: int | None, confidence: float | None, n_labels: int) -> np.ndarray:
    """A label distribution from a predicted label and the confidence stated for it.

    The predicted label gets ``confidence`` and the rest is spread evenly over the other labels; with
    no prediction or no confidence the distribution is uniform (the model committed to nothing).

    Args:
        predicted: index of the predicted label, or ``None``.
        confidence: stated confidence in [0, 1], or ``None``.
        n_labels: size of the label set (at least 2).

    Returns:
        A ``(n_labels,)`` array summing to 1.

    Raises:
        ValueError: ``n_labels < 2``, ``predicted`` out of range or ``confidence`` outside [0, 1].
    """
    if n_labels < 2:
        raise ValueError(f"n_labels must be >= 2, got {n_labels}")
    if predicted is None or confidence is None:
        return np.full(n_labels, 1.0 / n_labels)
    if not 0 <= predicted < n_labels:
        raise ValueError(f"predicted label {predicted} out of range [0, {n_labels})")
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence {confidence} outside [0, 1]")
    probs = np.full(n_labels, (1.0 - confidence) / (n_labels - 1))
    probs[predicted] = confidence
    return probs
