"""Reading a judge's JSON verdict robustly: code fences, text around the object, numeric strings.

The judge is asked for exactly ``{"score": <int>, "reason": "..."}``. Models wrap it in fences, add a
preamble or trailing commentary; all of that is tolerated. What is not tolerated is a reply with no
JSON object holding a numeric ``score`` inside the rubric's range: that is malformed and earns a re-ask.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

__all__ = ["JudgeReply", "MalformedJudgeReply", "parse_judge_reply"]

_FENCE = re.compile(r"```[A-Za-z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


class MalformedJudgeReply(ValueError):
    """A judge reply holds no usable verdict; the message says why (it is shown to the judge on re-ask)."""


@dataclass(frozen=True)
class JudgeReply:
    """A parsed verdict.

    Attributes:
        score: the score, inside the rubric's range.
        reason: the judge's one-line reason ("" when it gave none).
    """

    score: float
    reason: str


def _json_objects(text: str):
    """Yield every JSON object that starts at some ``{`` of ``text``, fenced blocks first."""
    decoder = json.JSONDecoder()
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        for start in (i for i, ch in enumerate(source) if ch == "{"):
            try:
                value, _ = decoder.raw_decode(source, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def _as_score(value: object) -> float | None:
    if isinstance(value, bool):  # JSON true would otherwise pass as 1
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def parse_judge_reply(text: str, low: float, high: float) -> JudgeReply:
    """Extract the verdict from a judge's reply.

    The first JSON object with a ``score`` key is used (fenced blocks are looked at first).

    Args:
        text: the raw reply.
        low: lowest allowed score.
        high: highest allowed score.

    Returns:
        The verdict.

    Raises:
        MalformedJudgeReply: no JSON object with a ``score`` key, a non-numeric score, or one outside
            ``[low, high]``.
    """
    for obj in _json_objects(text):
        if "score" not in obj:
            continue
        score = _as_score(obj["score"])
        if score is None or not math.isfinite(score):
            raise MalformedJudgeReply(f'"score" must be a number, got {json.dumps(obj["score"])}')
        if not low <= score <= high:
            raise MalformedJudgeReply(f'"score" must be between {low:g} and {high:g}, got {score:g}')
        reason = obj.get("reason", "")
        return JudgeReply(score=score, reason=reason if isinstance(reason, str) else json.dumps(reason))
    raise MalformedJudgeReply('no JSON object with a "score" key was found')
