"""``anthropic/<model>``: Anthropic's Messages API over HTTP (``POST {api_base}/v1/messages``).

System messages are lifted out of the conversation into the ``system`` parameter, as the Messages API
requires (several are joined with a blank line, in order). The API gives no log-probabilities, so
``score_labels`` raises ``Unsupported``. Requests go through ``json_http.JsonHttpClient`` (one
pooled aiohttp session per backend) rather than the anthropic SDK, for the reason given there. No
retries here: the gateway retries.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    LabelScores,
    Transient,
    Unsupported,
    typed_options,
)
from orchestrator.backends.http_options import HostedOptions
from orchestrator.backends.json_http import JsonHttpClient, merge_headers
from orchestrator.backends.pricing import price_for

__all__ = ["AnthropicBackend", "AnthropicOptions", "split_system"]

DEFAULT_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
# Model families whose API rejects any temperature but 1 (as litellm's model map records them).
NO_SAMPLING_PARAMS = ("opus-4-7", "opus-4-8", "fable")
# Anthropic's stop reasons in the OpenAI vocabulary the rest of the code uses.
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


class AnthropicOptions(HostedOptions):
    """``options`` of an ``anthropic/`` model (unknown keys are refused when the campaign loads)."""

    send_temperature: bool | None = Field(
        None, description="Send the temperature (None: yes, except for models that reject it)."
    )


def split_system(messages: Sequence[tuple[str, str]]) -> tuple[str | None, list[dict[str, str]]]:
    """Separate system messages (joined) from the user/assistant turns.

    Args:
        messages: ``(role, content)`` pairs.

    Returns:
        ``(system_text_or_None, [{"role", "content"}, ...])``.
    """
    system = [content for role, content in messages if role == "system"]
    turns = [{"role": role, "content": content} for role, content in messages if role != "system"]
    return ("\n\n".join(system) if system else None), turns


class AnthropicBackend:
    """Messages over HTTP.

    Args:
        model_name: e.g. ``"claude-3-5-haiku-latest"``.
        settings: ``api_base`` (a base URL without ``/v1``; default Anthropic's), ``api_key`` (sent
            as ``x-api-key``), ``timeout`` and ``options``: ``extra_headers`` (dict; an
            ``anthropic-version`` here replaces the default ``2023-06-01``), ``price_usd_per_mtok``,
            ``send_temperature`` (default: true except for models that reject it, see
            ``NO_SAMPLING_PARAMS``).
    """

    supports_logprobs = False
    supports_label_scoring = False

    def __init__(self, model_name: str, settings: BackendSettings):
        self.model = f"anthropic/{model_name}"
        self._name = model_name
        options = typed_options(AnthropicOptions, settings.options)
        self.price = price_for(model_name, options.model_dump(), provider="anthropic")
        self._send_temperature = (
            options.send_temperature
            if options.send_temperature is not None
            else not any(family in model_name for family in NO_SAMPLING_PARAMS)
        )
        headers = {"anthropic-version": API_VERSION}
        if settings.api_key:
            headers["x-api-key"] = settings.api_key
        headers = merge_headers(merge_headers(headers, options.extra_headers), settings.headers)
        self._http = JsonHttpClient(settings.api_base or DEFAULT_BASE, headers, settings.timeout, self.model)

    def __repr__(self) -> str:
        return f"AnthropicBackend(model={self.model!r}, http={self._http!r})"

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one Messages call. ``request.logprobs`` is ignored (the API has none)."""
        system, turns = split_system(request.messages)
        body: dict[str, Any] = {"model": self._name, "messages": turns, "max_tokens": request.max_tokens}
        if self._send_temperature:
            body["temperature"] = request.temperature
        if system is not None:
            body["system"] = system
        if request.stop:
            body["stop_sequences"] = list(request.stop)
        started = time.perf_counter()
        response = await self._http.post("/v1/messages", body)
        latency = time.perf_counter() - started
        if not isinstance(response, dict):
            raise Transient(f"{self.model}: response is not a JSON object")
        blocks = response.get("content") or ()
        text = "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        stop_reason = response.get("stop_reason")
        if not text:
            raise Transient(f"{self.model}: response content is empty (stop_reason={stop_reason})")
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("input_tokens") or 0)
        completion_tokens = int(usage.get("output_tokens") or 0)
        return Completion(
            text=text,
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self.price.cost(prompt_tokens, completion_tokens) if self.price else None,
            finish_reason=_FINISH_REASONS.get(stop_reason or "", stop_reason),
            latency_s=latency,
        )

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Always raises ``Unsupported``: the Messages API returns no log-probabilities."""
        raise Unsupported(f"{self.model}: the Anthropic API gives no log-probabilities; use a judge instead")

    async def aclose(self) -> None:
        await self._http.aclose()
