"""Answer extractors: turn a generative output into the answer a metric compares.

An extractor is any callable ``(text) -> str | None``; ``None`` means "no answer found" and is
scored as wrong by every metric and as a broken output contract. Three configurable kinds cover most
tasks (a regex, a label set, the first line) and ``FirstOf`` chains them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AnswerExtractor",
    "FirstLineExtractor",
    "FirstOf",
    "LabelSetExtractor",
    "RegexExtractor",
    "as_extractor",
]

AnswerExtractor = Callable[[str], str | None]

# "Answer: X", "Final answer - X", "Label: X": a prefix models add that is not part of the answer.
_ANSWER_PREFIX = re.compile(r"^\s*(?:the\s+)?(?:final\s+)?(?:answer|label)(?:\s*[:\-]|\s+is\b:?)\s*", re.I)
_EDGE_CHARS = " \t\r\n.,;:!?\"'`*()[]{}<>"


@dataclass(frozen=True)
class RegexExtractor:
    """Extract a capture group of a regular expression.

    Attributes:
        pattern: the regex; searched, not full-matched.
        group: which group to return (number or name); 0 is the whole match.
        flags: ``re`` flags; case-insensitive and multiline by default.
        last: return the last match instead of the first (for "... so the answer is X" at the end).
    """

    pattern: str
    group: int | str = 1
    flags: int = re.IGNORECASE | re.MULTILINE
    last: bool = False
    _compiled: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = re.compile(self.pattern, self.flags)
        except re.error as exc:
            raise ValueError(f"RegexExtractor: invalid pattern {self.pattern!r}: {exc}") from exc
        if isinstance(self.group, int) and self.group > compiled.groups:
            raise ValueError(f"RegexExtractor: pattern {self.pattern!r} has no group {self.group}")
        if isinstance(self.group, str) and self.group not in compiled.groupindex:
            raise ValueError(f"RegexExtractor: pattern {self.pattern!r} has no group named {self.group!r}")
        object.__setattr__(self, "_compiled", compiled)

    def __call__(self, text: str) -> str | None:
        matches = list(self._compiled.finditer(text))
        if not matches:
            return None
        value = (matches[-1] if self.last else matches[0]).group(self.group)
        return None if value is None else value.strip()


@dataclass(frozen=True)
class LabelSetExtractor:
    """Find which label of a fixed set an output names; returns the label as spelled in ``labels``.

    The whole output (minus an ``Answer:`` prefix, quotes and trailing punctuation) equal to a label wins.
    Otherwise labels are searched as whole words; the earliest occurrence wins, a longer label beats a
    shorter one it contains ("not entailment" over "entailment").

    Attributes:
        labels: the label set.
        case_sensitive: compare case-sensitively.
        ambiguous: ``"first"`` takes the earliest label when several appear; ``"reject"`` returns None
            when more than one distinct label appears (stricter, for "yes or no?" echoing outputs).
    """

    labels: tuple[str, ...]
    case_sensitive: bool = False
    ambiguous: Literal["first", "reject"] = "first"

    def __post_init__(self) -> None:
        labels = tuple(self.labels)
        if not labels or any(not isinstance(x, str) or not x.strip() for x in labels):
            raise ValueError(f"LabelSetExtractor: labels must be non-empty strings, got {labels!r}")
        if len({self._fold(x) for x in labels}) != len(labels):
            raise ValueError(f"LabelSetExtractor: labels collide after case folding: {labels!r}")
        if self.ambiguous not in ("first", "reject"):
            raise ValueError(
                f"LabelSetExtractor: ambiguous must be 'first' or 'reject', got {self.ambiguous!r}"
            )
        object.__setattr__(self, "labels", labels)

    def _fold(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text).strip()
        return text if self.case_sensitive else text.casefold()

    def __call__(self, text: str) -> str | None:
        by_folded = {self._fold(label): label for label in self.labels}
        whole = self._fold(_ANSWER_PREFIX.sub("", text, count=1).strip(_EDGE_CHARS))
        if whole in by_folded:
            return by_folded[whole]
        haystack = self._fold(text)
        spans: list[tuple[int, int, str]] = []
        for folded, label in by_folded.items():
            # Lookarounds instead of \b so labels like "(A)" or "C++" still match as whole tokens.
            for m in re.finditer(rf"(?<!\w){re.escape(folded)}(?!\w)", haystack):
                spans.append((m.start(), m.end(), label))
        # Drop a match lying inside a longer one ("entailment" inside "not entailment").
        kept = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
        if not kept:
            return None
        if self.ambiguous == "reject" and len({label for _, _, label in kept}) > 1:
            return None
        return min(kept, key=lambda s: (s[0], -(s[1] - s[0])))[2]


@dataclass(frozen=True)
class FirstLineExtractor:
    """The first non-empty line, stripped of an ``Answer:`` prefix and edge punctuation.

    Attributes:
        strip_prefix: remove a leading "Answer:" / "Final answer:" / "Label:".
    """

    strip_prefix: bool = True

    def __call__(self, text: str) -> str | None:
        for line in text.splitlines():
            if line.strip():
                if self.strip_prefix:
                    line = _ANSWER_PREFIX.sub("", line, count=1)
                answer = line.strip(_EDGE_CHARS)
                return answer or None
        return None


@dataclass(frozen=True)
class FirstOf:
    """Try extractors in order; return the first answer found.

    Attributes:
        extractors: the extractors, most specific first.
    """

    extractors: tuple[AnswerExtractor, ...]

    def __post_init__(self) -> None:
        if not self.extractors:
            raise ValueError("FirstOf needs at least one extractor")
        object.__setattr__(self, "extractors", tuple(self.extractors))

    def __call__(self, text: str) -> str | None:
        for extractor in self.extractors:
            answer = extractor(text)
            if answer is not None:
                return answer
        return None


def as_extractor(spec: AnswerExtractor | Sequence[AnswerExtractor]) -> AnswerExtractor:
    """Accept one extractor or a sequence of them (chained with ``FirstOf``)."""
    if callable(spec):
        return spec
    return FirstOf(tuple(spec))
