"""``anthropic/<model>``: the official anthropic SDK (Messages API).

System messages are lifted out of the conversation into the ``system`` parameter, as the Messages API
requires (several are joined with a blank line, in order). The API gives no log-probabilities, so
``score_labels`` raises ``Unsupported``. One ``AsyncAnthropic`` client per backend, SDK retries off
(``max_retries=0``): the gateway retries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    LabelScores,
    LLMError,
    Transient,
    Unsupported,
)
from orchestrator.backends.http_errors import wrap_sdk_error
from orchestrator.backends.pricing import price_for

__all__ = ["AnthropicBackend", "split_system"]

# Sent when no key is configured, so the SDK does not silently read ANTHROPIC_API_KEY.
NO_KEY = "no-key-configured"
# Model families whose API rejects any temperature but 1 (as litellm's model map records them).
NO_SAMPLING_PARAMS = ("opus-4-7", "opus-4-8", "fable")
# Anthropic's stop reasons in the OpenAI vocabulary the rest of the code uses.
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


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
    """Messages through ``anthropic.AsyncAnthropic``.

    Args:
        model_name: e.g. ``"claude-3-5-haiku-latest"``.
        settings: ``api_base`` (a base URL without ``/v1``; default Anthropic's), ``api_key``,
            ``timeout`` and ``options``: ``extra_headers`` (dict), ``price_usd_per_mtok``,
            ``send_temperature`` (default: true except for models that reject it, see
            ``NO_SAMPLING_PARAMS``).
    """

    supports_logprobs = False
    supports_label_scoring = False

    def __init__(self, model_name: str, settings: BackendSettings):
        import anthropic  # lazy: keeps `promptfusion --help` fast

        self.model = f"anthropic/{model_name}"
        self._name = model_name
        self._anthropic = anthropic
        options = dict(settings.options)
        self.price = price_for(model_name, options)
        self._send_temperature = bool(
            options.get("send_temperature", not any(family in model_name for family in NO_SAMPLING_PARAMS))
        )
        self._client = anthropic.AsyncAnthropic(
            api_key=settings.api_key or NO_KEY,
            base_url=settings.api_base,
            timeout=settings.timeout,
            max_retries=0,
            default_headers=options.get("extra_headers"),
        )

    def __repr__(self) -> str:
        return f"AnthropicBackend(model={self.model!r}, api_base={str(self._client.base_url)!r})"

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
        try:
            # The SDK's documented raw-request API: same client, auth, version header, timeout and
            # status errors as messages.create, without its per-call transform and pydantic models
            # (recent SDKs also dropped the ``temperature`` keyword that the API still reads).
            raw = await self._client.post("/v1/messages", body=body, cast_to=str)
            response = json.loads(raw)
        except (self._anthropic.AnthropicError, ValueError) as error:
            raise self._wrap(error) from error
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
        await self._client.close()

    def _wrap(self, error: Exception) -> LLMError:
        return wrap_sdk_error(self._anthropic, self.model, error)
