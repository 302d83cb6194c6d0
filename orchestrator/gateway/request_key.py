"""The content address of a request: sha256 of its canonical JSON.

The key covers everything that changes the answer (model string, messages, sampling parameters, the
sample index when temperature > 0, the label set for label scoring) and nothing that does not: the
API key and the base URL are never part of it, so the cache holds no secrets and survives a move
from one server to another serving the same model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from orchestrator.backends.base import ChatRequest

__all__ = ["KEY_VERSION", "request_key"]

# Bump when the canonical form changes, so old entries are simply never hit again.
KEY_VERSION = 1


def request_key(
    model: str, request: ChatRequest, kind: str = "complete", labels: Sequence[str] = ()
) -> tuple[str, str]:
    """Canonical JSON and its sha256 for one request.

    Args:
        model: the configured model string (``"openai/gpt-4o-mini"``).
        request: the request; ``sample_index`` counts only when ``temperature > 0``.
        kind: ``"complete"`` or ``"score_labels"``.
        labels: the label set for ``score_labels`` (order matters: it is the caller's order).

    Returns:
        ``(hex_digest, canonical_json)``.
    """
    temperature = float(request.temperature)
    canonical = {
        "v": KEY_VERSION,
        "kind": kind,
        "model": model,
        "messages": request.messages,
        "temperature": temperature,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
        "logprobs": request.logprobs,
        "top_logprobs": request.top_logprobs,
        "seed": request.seed,
        "sample": request.sample_index if temperature > 0 else 0,
    }
    if kind != "complete":
        canonical["labels"] = list(labels)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), text
