"""Candidate prompts: identity by normalised content, and the filter applied to proposals."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FilterResult",
    "candidate_id",
    "extract_prompt",
    "filter_proposals",
    "has_prompt_tag",
    "normalise",
]

_SPACE = re.compile(r"\s+")
_PROMPT_TAG = re.compile(r"<prompt>(.*?)(?:</prompt>|$)", re.S | re.I)
# Text that shows the reference LLM copied the meta-prompt's scaffolding instead of writing an instruction.
_LEAK_MARKERS = (
    "{{",
    "}}",
    "<prompt>",
    "</prompt>",
    "## earlier instructions",
    "## examples (input",
    "(score:",
    "score:",
    "would score higher",
)


def normalise(prompt: str) -> str:
    """Lower-case, collapse whitespace, strip quotes and end punctuation: equal prompts compare equal."""
    text = _SPACE.sub(" ", prompt).strip().strip("\"'`").strip()
    return text.lower().rstrip(".!")


def candidate_id(prompt: str) -> str:
    """Stable id of a prompt: a short sha256 of its normalised text."""
    return hashlib.sha256(normalise(prompt).encode("utf-8")).hexdigest()[:12]


def has_prompt_tag(reply: str) -> bool:
    """Whether ``reply`` opens a ``<prompt>`` tag (the format the meta-prompts ask for)."""
    return _PROMPT_TAG.search(reply) is not None


def extract_prompt(reply: str) -> str:
    """The instruction inside ``<prompt>...</prompt>``; the whole reply, stripped, when the tag is missing."""
    match = _PROMPT_TAG.search(reply)
    text = match.group(1) if match else reply
    text = text.strip()
    for fence in ("```", '"""'):
        if text.startswith(fence) and text.endswith(fence) and len(text) > 2 * len(fence):
            text = text[len(fence) : -len(fence)].strip()
    return text


@dataclass(frozen=True)
class FilterResult:
    kept: list[str]
    rejected: dict[str, str]  # prompt -> reason


def filter_proposals(
    proposals: Iterable[str], seen_ids: Iterable[str], *, max_chars: int, min_chars: int = 8
) -> FilterResult:
    """Drop duplicates (of each other and of ``seen_ids``), empty or over-long text and leaked markers.

    Args:
        proposals: candidate prompts as proposed (already extracted from the replies).
        seen_ids: ``candidate_id`` of every prompt scored before.
        max_chars: longer prompts are rejected.
        min_chars: shorter prompts are rejected.

    Returns:
        The kept prompts in proposal order, and the reason each other one was rejected.
    """
    seen = set(seen_ids)
    kept: list[str] = []
    rejected: dict[str, str] = {}
    for prompt in proposals:
        text = prompt.strip()
        cid = candidate_id(text)
        lowered = text.lower()
        if len(text) < min_chars:
            rejected[prompt] = "too short"
        elif len(text) > max_chars:
            rejected[prompt] = f"longer than {max_chars} characters"
        elif any(marker in lowered for marker in _LEAK_MARKERS):
            rejected[prompt] = "contains meta-prompt scaffolding"
        elif cid in seen:
            rejected[prompt] = "duplicate"
        else:
            seen.add(cid)
            kept.append(text)
    return FilterResult(kept=kept, rejected=rejected)
