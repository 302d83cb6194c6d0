"""The small protocols through which evaluators use an LLM.

``evaluators`` never imports the orchestrator: whatever is passed in only needs these shapes.
The orchestrator's gateway satisfies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable


class CompletionLike(Protocol):
    text: str


class LabelScoresLike(Protocol):
    probs: Mapping[str, float]


@runtime_checkable
class ChatLLM(Protocol):
    """Anything that answers a chat: used for LLM judges and for generative scoring."""

    async def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int = 256,
    ) -> CompletionLike: ...


@runtime_checkable
class LabelScorer(Protocol):
    """An LLM that can score a fixed label set as answers (log-likelihood); gives calibrated probs.

    An object may also carry ``supports_label_scoring: bool``; when it is ``False`` (a gateway whose
    backend has no log-probabilities) the evaluator's ``scoring="auto"`` falls back to generation.
    """

    async def score_labels(
        self, messages: Sequence[Mapping[str, str]], labels: Sequence[str]
    ) -> LabelScoresLike: ...
