"""How cached answers are written as JSON and read back, strictly.

Reading validates every field: an entry that does not decode into exactly the expected shape is
reported as ``CorruptEntry`` and the cache discards it (and the call is made again) instead of
handing a half-read answer to the optimizer.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.backends.base import Completion, LabelScores, TokenLogprob

__all__ = [
    "CorruptEntry",
    "completion_from_json",
    "completion_to_json",
    "scores_from_json",
    "scores_to_json",
]


class CorruptEntry(ValueError):
    """A cache entry that cannot be decoded into the expected record."""


def _dumps(payload: dict[str, Any]) -> str:
    # ensure_ascii: lone surrogates (possible in JSON from a server) stay escaped and storable.
    return json.dumps(payload, separators=(",", ":"))


def completion_to_json(completion: Completion) -> str:
    logprobs = None
    if completion.logprobs is not None:
        logprobs = [[lp.token, lp.logprob, [list(alt) for alt in lp.top]] for lp in completion.logprobs]
    return _dumps(
        {
            "text": completion.text,
            "model": completion.model,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "cost_usd": completion.cost_usd,
            "finish_reason": completion.finish_reason,
            "logprobs": logprobs,
            "latency_s": completion.latency_s,
        }
    )


def _typed(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload[name]
    if not isinstance(value, kind) or isinstance(value, bool):  # bool is an int in Python, not here
        raise CorruptEntry(f"field {name!r} has type {type(value).__name__}")
    return value


def _load(text: str | bytes) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except (ValueError, TypeError) as error:
        raise CorruptEntry(f"not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise CorruptEntry("not a JSON object")
    return payload


def _optional_str(payload: dict[str, Any], name: str) -> str | None:
    value = payload[name]
    if value is not None and not isinstance(value, str):
        raise CorruptEntry(f"field {name!r} has type {type(value).__name__}")
    return value


def completion_from_json(text: str | bytes) -> Completion:
    """Decode a cached completion (``cached=True``).

    Raises:
        CorruptEntry: not JSON, a missing field or a field of the wrong type.
    """
    payload = _load(text)
    try:
        raw_logprobs = payload["logprobs"]
        logprobs = None
        if raw_logprobs is not None:
            logprobs = tuple(
                TokenLogprob(str(token), float(logprob), tuple((str(t), float(lp)) for t, lp in top))
                for token, logprob, top in raw_logprobs
            )
        cost = payload["cost_usd"]
        return Completion(
            text=_typed(payload, "text", str),
            model=_typed(payload, "model", str),
            prompt_tokens=_typed(payload, "prompt_tokens", int),
            completion_tokens=_typed(payload, "completion_tokens", int),
            cost_usd=None if cost is None else float(cost),
            finish_reason=_optional_str(payload, "finish_reason"),
            logprobs=logprobs,
            latency_s=float(payload["latency_s"]),
            cached=True,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptEntry(f"bad completion record: {error!r}") from error


def scores_to_json(scores: LabelScores) -> str:
    return _dumps(
        {
            "probs": dict(scores.probs),
            "logprobs": dict(scores.logprobs),
            "prompt_tokens": scores.prompt_tokens,
            "completion_tokens": scores.completion_tokens,
            "cost_usd": scores.cost_usd,
        }
    )


def scores_from_json(text: str | bytes) -> LabelScores:
    """Decode cached label scores (``cached=True``).

    Raises:
        CorruptEntry: not JSON, a missing field or a field of the wrong type.
    """
    payload = _load(text)
    try:
        probs = {str(label): float(p) for label, p in _typed(payload, "probs", dict).items()}
        logprobs = {str(label): float(lp) for label, lp in _typed(payload, "logprobs", dict).items()}
        cost = payload["cost_usd"]
        return LabelScores(
            probs=probs,
            logprobs=logprobs,
            prompt_tokens=_typed(payload, "prompt_tokens", int),
            completion_tokens=_typed(payload, "completion_tokens", int),
            cost_usd=None if cost is None else float(cost),
            cached=True,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CorruptEntry(f"bad label-scores record: {error!r}") from error
