"""What the evaluator's LLM calls cost, reported to a caller-provided ledger callback.

The evaluator owns no ledger: the caller passes ``on_usage`` (a plain callable) and decides where
records go (the orchestrator's run store, a budget, a test list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["UsageCallback", "UsageRecord", "UsageTotals", "usage_from_completion"]


@dataclass(frozen=True)
class UsageRecord:
    """One LLM call made by the evaluator.

    Attributes:
        role: ``"scorer"`` (running the candidate prompt) or ``"judge"``.
        dimension: the judged dimension, ``None`` for scorer calls.
        prompt_tokens: input tokens, 0 when the LLM does not say.
        completion_tokens: output tokens, 0 when the LLM does not say.
        cost_usd: cost, ``None`` when unknown.
        cached: answered from a cache.
    """

    role: Literal["scorer", "judge"]
    dimension: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    cached: bool = False


UsageCallback = Callable[[UsageRecord], None]


def usage_from_completion(
    completion: object, role: Literal["scorer", "judge"], dimension: str | None
) -> UsageRecord:
    """Read usage off any completion-like object (fields the ``ChatLLM`` protocol does not require).

    Args:
        completion: what ``chat`` or ``score_labels`` returned.
        role: who made the call.
        dimension: the judged dimension, if any.

    Returns:
        The usage record; missing fields default to 0 / None / False.
    """
    cost = getattr(completion, "cost_usd", None)
    return UsageRecord(
        role=role,
        dimension=dimension,
        prompt_tokens=int(getattr(completion, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(completion, "completion_tokens", 0) or 0),
        cost_usd=None if cost is None else float(cost),
        cached=bool(getattr(completion, "cached", False)),
    )


@dataclass(frozen=True)
class UsageTotals:
    """Summed usage of a set of calls.

    Attributes:
        calls: number of calls.
        prompt_tokens: summed input tokens.
        completion_tokens: summed output tokens.
        cost_usd: summed known costs (calls of unknown cost add nothing).
        unknown_cost_calls: calls whose cost was unknown.
        cached_calls: calls answered from a cache.
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unknown_cost_calls: int = 0
    cached_calls: int = 0

    @classmethod
    def of(cls, records: Iterable[UsageRecord]) -> UsageTotals:
        records = list(records)
        return cls(
            calls=len(records),
            prompt_tokens=sum(r.prompt_tokens for r in records),
            completion_tokens=sum(r.completion_tokens for r in records),
            cost_usd=sum(r.cost_usd for r in records if r.cost_usd is not None),
            unknown_cost_calls=sum(r.cost_usd is None for r in records),
            cached_calls=sum(r.cached for r in records),
        )
