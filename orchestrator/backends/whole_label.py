"""Whole-label log-likelihoods from an OpenAI-compatible server that scores prompts (vLLM's extension).

A label is sent as the final assistant message with ``continue_final_message: true`` and
``prompt_logprobs: 0``; the server returns the log-probability of every prompt token, and the label's
own tokens, the last ones, sum to its log-likelihood as the answer: the same quantity ``local/``
computes in-process, with no top-k limit. vLLM and ``orchestrator.serve`` support it; OpenAI refuses
the field (HTTP 400), Ollama and llama.cpp ignore it (no ``prompt_logprobs`` in the reply). One request
per label, sent concurrently.
"""

from __future__ import annotations

from typing import Any

from orchestrator.backends.base import ChatRequest, Unsupported

__all__ = ["PROBE_LABEL_REQUEST", "label_logprob_from_reply", "whole_label_body"]

# The capability probe: does the server score a continued assistant message?
PROBE_LABEL_REQUEST = ChatRequest(messages=(("user", "Answer with one word, yes or no: is water wet?"),))


def whole_label_body(
    model_name: str, request: ChatRequest, label: str, max_tokens_param: str
) -> dict[str, Any]:
    """The request body scoring ``label`` as the start of the answer to ``request``."""
    messages = [*request.message_dicts(), {"role": "assistant", "content": label}]
    return {
        "model": model_name,
        "messages": messages,
        "temperature": 0.0,
        max_tokens_param: 1,  # vLLM generates at least one token; orchestrator.serve none
        "continue_final_message": True,
        "add_generation_prompt": False,
        "prompt_logprobs": 0,
    }


def _actual_token(entry: Any) -> tuple[str, float]:
    # With prompt_logprobs 0 each position holds the actual prompt token only.
    if not isinstance(entry, dict) or len(entry) != 1:
        raise Unsupported(f"prompt_logprobs entry is not one token: {entry!r}")
    (alternative,) = entry.values()
    if not isinstance(alternative, dict) or not isinstance(alternative.get("logprob"), (int, float)):
        raise Unsupported(f"prompt_logprobs entry has no logprob: {entry!r}")
    return str(alternative.get("decoded_token") or ""), float(alternative["logprob"])


def label_logprob_from_reply(reply: Any, label: str, model: str) -> float:
    """The label's log-likelihood: the sum over the trailing prompt tokens that spell it.

    Args:
        reply: the decoded JSON reply to ``whole_label_body``.
        label: the label sent as the continued message.
        model: the model string, named in errors.

    Raises:
        Unsupported: no ``prompt_logprobs`` in the reply (the server ignores the field), or its last
            tokens do not spell the label (a template that adds text after the continued message).
    """
    entries = reply.get("prompt_logprobs") if isinstance(reply, dict) else None
    if not isinstance(entries, list) or not entries:
        raise Unsupported(f"{model}: the server returned no prompt_logprobs, cannot score whole labels")
    text, total = "", 0.0
    target = label.rstrip()
    for entry in reversed(entries):
        if entry is None:
            break
        token, logprob = _actual_token(entry)
        text, total = token + text, total + logprob
        if len(text.rstrip()) >= len(target):
            break
    if not text.rstrip().endswith(target):
        raise Unsupported(
            f"{model}: the scored prompt does not end with the label {label!r} (it ends {text!r})"
        )
    return total
