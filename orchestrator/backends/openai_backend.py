"""``openai/<model>``: OpenAI's chat completions wire format, for OpenAI or any OpenAI-compatible server.

``api_base`` points it at vLLM, llama.cpp's server, LM Studio, Ollama's ``/v1`` ... The requests go
through ``json_http.JsonHttpClient`` (one pooled aiohttp session per backend) rather than the openai
SDK: the same JSON, at a seventh of the SDK's CPU per call (see that module). No retries here: the
gateway retries, once, for every backend.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    LabelScores,
    Transient,
)
from orchestrator.backends.first_token_labels import score_labels_by_first_token
from orchestrator.backends.http_options import HostedOptions
from orchestrator.backends.json_http import JsonHttpClient, merge_headers
from orchestrator.backends.openai_format import completion_from_openai, openai_request_kwargs
from orchestrator.backends.pricing import price_for

__all__ = ["OpenAIBackend", "OpenAIOptions"]

DEFAULT_BASE = "https://api.openai.com/v1"


class OpenAIOptions(HostedOptions):
    """``options`` of an ``openai/`` model (unknown keys are refused when the campaign loads)."""

    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="Request field of the completion length (reasoning models: the latter)."
    )


class OpenAIBackend:
    """Chat completions over HTTP (``POST {api_base}/chat/completions``).

    Args:
        model_name: the model as the server knows it (``"gpt-4o-mini"``, a vLLM model path ...).
        settings: ``api_base`` (default: OpenAI's), ``api_key`` (sent as a bearer token; none is
            sent without one: local servers need none), ``timeout`` and ``options``:
            ``extra_headers`` (dict), ``max_tokens_param`` (``"max_completion_tokens"`` for OpenAI
            reasoning models), ``price_usd_per_mtok`` ([input, output]); see ``OpenAIOptions``.
    """

    supports_logprobs = True
    supports_label_scoring = True

    def __init__(self, model_name: str, settings: BackendSettings):
        self.model = f"openai/{model_name}"
        self._name = model_name
        options = OpenAIOptions.model_validate(dict(settings.options))
        self.price = price_for(model_name, options.model_dump(), provider="openai")
        self._max_tokens_param = options.max_tokens_param
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        headers = merge_headers(merge_headers(headers, options.extra_headers), settings.headers)
        self._http = JsonHttpClient(settings.api_base or DEFAULT_BASE, headers, settings.timeout, self.model)

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, http={self._http!r})"

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion. Raises ``Transient`` / ``Timeout`` / ``RateLimited`` / ``Fatal``."""
        body = {"model": self._name, **openai_request_kwargs(request, self._max_tokens_param)}
        started = time.perf_counter()
        response = await self._http.post("/chat/completions", body)
        if not isinstance(response, dict):
            raise Transient(f"{self.model}: response is not a JSON object")
        completion = completion_from_openai(
            response, self.model, time.perf_counter() - started, request.logprobs
        )
        if self.price is None:
            return completion
        cost = self.price.cost(completion.prompt_tokens, completion.completion_tokens)
        return dataclasses.replace(completion, cost_usd=cost)

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Estimate label probabilities from the first answer token's ``top_logprobs``.

        See ``first_token_labels`` for the estimate. Raises ``Unsupported`` when the server returns
        no log-probabilities or none of the offered tokens starts a label.
        """
        return await score_labels_by_first_token(self.complete, self.model, request, labels)

    async def aclose(self) -> None:
        await self._http.aclose()
