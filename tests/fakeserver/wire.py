"""The two wire formats the fake server speaks: OpenAI chat completions and Anthropic messages.

Only the fields the SDKs (and litellm) read are produced; shapes follow the public API references.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fakeserver.script import Reply

_TOKEN = re.compile(r"\s*\S+|\s+")
DEFAULT_TOKEN_LOGPROB = -0.05


def split_tokens(text: str) -> list[str]:
    """Word-level pseudo tokens (leading whitespace kept, like BPE tokens)."""
    return _TOKEN.findall(text)


def prompt_token_count(messages: list[dict[str, Any]], system: Any = None) -> int:
    """A deterministic stand-in for a tokenizer: one token per 4 characters, plus 3 per message."""
    chars = len(system) if isinstance(system, str) else 0
    for message in messages:
        content = message.get("content", "")
        chars += len(content) if isinstance(content, str) else len(str(content))
    return max(1, chars // 4) + 3 * len(messages)


def _usage(reply: Reply, body: dict[str, Any]) -> tuple[int, int]:
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = prompt_token_count(body.get("messages") or [], body.get("system"))
    completion = reply.completion_tokens
    if completion is None:
        completion = len(split_tokens(reply.text))
    return prompt, completion


def _openai_logprobs(reply: Reply, top_k: int) -> dict[str, Any]:
    content = []
    for index, token in enumerate(split_tokens(reply.text)):
        alternatives = [(token, DEFAULT_TOKEN_LOGPROB)]
        if index == 0 and reply.top_logprobs:
            alternatives = list(reply.top_logprobs)
        chosen_logprob = alternatives[0][1] if alternatives[0][0] == token else DEFAULT_TOKEN_LOGPROB
        content.append(
            {
                "token": token,
                "logprob": chosen_logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {"token": alt, "logprob": lp, "bytes": list(alt.encode())}
                    for alt, lp in alternatives[:top_k]
                ],
            }
        )
    return {"content": content}


def openai_completion(reply: Reply, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """A ``chat.completion`` object answering ``body``."""
    prompt, completion = _usage(reply, body)
    logprobs = None
    if body.get("logprobs"):
        logprobs = _openai_logprobs(reply, int(body.get("top_logprobs") or 0))
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "logprobs": logprobs,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def openai_error(status: int, message: str) -> dict[str, Any]:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens"}


def anthropic_message(reply: Reply, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """A ``message`` object answering ``body``."""
    prompt, completion = _usage(reply, body)
    content = [{"type": "text", "text": reply.text}] if reply.text else []
    return {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": content,
        "stop_reason": _ANTHROPIC_STOP.get(reply.finish_reason, reply.finish_reason),
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": completion},
    }


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = {
        429: "rate_limit_error",
        401: "authentication_error",
        400: "invalid_request_error",
        403: "permission_error",
        404: "not_found_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
