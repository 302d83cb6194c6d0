"""Reading an OpenAI-format chat completion into a ``Completion`` (shared by openai/ and litellm/).

The openai backend reads the decoded JSON (dicts), litellm returns its own ``ModelResponse`` whose
nested parts may be objects or dicts; ``_field`` reads either, so both backends share one parser.
"""

from __future__ import annotations

from typing import Any

from orchestrator.backends.base import ChatRequest, Completion, TokenLogprob, Transient

__all__ = ["completion_from_openai", "openai_request_kwargs"]


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def openai_request_kwargs(request: ChatRequest, max_tokens_param: str = "max_tokens") -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create`` / ``litellm.acompletion`` (model excluded).

    Unset optional parameters are left out rather than sent as null: some OpenAI-compatible servers
    (older llama.cpp, LM Studio) reject explicit nulls.
    """
    kwargs: dict[str, Any] = {
        "messages": request.message_dicts(),
        "temperature": request.temperature,
        max_tokens_param: request.max_tokens,
    }
    if request.stop:
        kwargs["stop"] = list(request.stop)
    if request.seed is not None:
        kwargs["seed"] = request.seed
    if request.logprobs:
        kwargs["logprobs"] = True
        if request.top_logprobs:
            kwargs["top_logprobs"] = request.top_logprobs
    return kwargs


def _logprobs(choice: Any) -> tuple[TokenLogprob, ...] | None:
    content = _field(_field(choice, "logprobs"), "content")
    if not content:
        return None
    return tuple(
        TokenLogprob(
            token=_field(item, "token", ""),
            logprob=float(_field(item, "logprob", 0.0)),
            top=tuple(
                (_field(alt, "token", ""), float(_field(alt, "logprob", 0.0)))
                for alt in (_field(item, "top_logprobs") or ())
            ),
        )
        for item in content
    )


def completion_from_openai(response: Any, model: str, latency_s: float, want_logprobs: bool) -> Completion:
    """Convert an OpenAI-format response; cost is left None for the caller to fill.

    Args:
        response: the SDK's (or litellm's) chat completion object.
        model: the configured model string, recorded in the ``Completion``.
        latency_s: wall time of the HTTP call.
        want_logprobs: whether logprobs were requested (only then are they parsed).

    Returns:
        The ``Completion``.

    Raises:
        Transient: the response has no choices or its content is empty (worth another try; an
            empty answer must never be scored as if the prompt were bad).
    """
    choices = _field(response, "choices") or ()
    if not choices:
        raise Transient(f"{model}: response has no choices")
    choice = choices[0]
    text = _field(_field(choice, "message"), "content")
    if not text:
        raise Transient(
            f"{model}: response content is empty (finish_reason={_field(choice, 'finish_reason')})"
        )
    usage = _field(response, "usage")
    return Completion(
        text=text,
        model=model,
        prompt_tokens=int(_field(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(_field(usage, "completion_tokens", 0) or 0),
        finish_reason=_field(choice, "finish_reason"),
        logprobs=_logprobs(choice) if want_logprobs else None,
        latency_s=latency_s,
    )
