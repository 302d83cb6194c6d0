"""Token estimates made before a call, for the tokens/min limiter and the token budget.

No tokenizer is loaded for hosted models: about four characters per token for English text, plus a
few tokens of chat framing per message. The limiter and the budget correct with the real usage as
soon as the response arrives.
"""

from __future__ import annotations

from orchestrator.backends.base import ChatRequest

__all__ = ["CHARS_PER_TOKEN", "estimate_prompt_tokens", "estimate_request_tokens"]

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_prompt_tokens(request: ChatRequest) -> int:
    """Approximate prompt tokens of ``request`` (>= 1)."""
    chars = sum(len(content) for _, content in request.messages)
    return 1 + chars // CHARS_PER_TOKEN + TOKENS_PER_MESSAGE * len(request.messages)


def estimate_request_tokens(request: ChatRequest) -> int:
    """Prompt estimate plus ``max_tokens``: what providers count against a tokens/min limit up front."""
    return estimate_prompt_tokens(request) + request.max_tokens
