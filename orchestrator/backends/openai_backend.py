"""``openai/<model>``: OpenAI's chat completions wire format, for OpenAI or any OpenAI-compatible server.

``api_base`` points it at vLLM, llama.cpp's server, LM Studio, Ollama's ``/v1`` ... The requests go
through ``json_http.JsonHttpClient`` (one pooled aiohttp session per backend) rather than the openai
SDK: the same JSON, at a seventh of the SDK's CPU per call (see that module). No retries here: the
gateway retries, once, for every backend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    Fatal,
    LabelScores,
    Transient,
    Unsupported,
    typed_options,
)
from orchestrator.backends.first_token_labels import score_labels_by_first_token
from orchestrator.backends.http_options import HostedOptions
from orchestrator.backends.json_http import JsonHttpClient, merge_headers
from orchestrator.backends.openai_format import completion_from_openai, openai_request_kwargs
from orchestrator.backends.pricing import price_for
from orchestrator.backends.whole_label import PROBE_LABEL_REQUEST, label_logprob_from_reply, whole_label_body

LabelMethod = Literal["whole_label", "first_token"]

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
        options = typed_options(OpenAIOptions, settings.options)
        self.price = price_for(model_name, options.model_dump(), provider="openai")
        self._max_tokens_param = options.max_tokens_param
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        headers = merge_headers(merge_headers(headers, options.extra_headers), settings.headers)
        self._http = JsonHttpClient(settings.api_base or DEFAULT_BASE, headers, settings.timeout, self.model)
        # How labels are scored (None until probed): ``whole_label`` where the server scores a
        # continued assistant message (``whole_label``), else ``first_token`` (``first_token_labels``).
        # ``probe_label_scoring`` finds it; the gateway probes once and may set it from its cache.
        self.label_method: LabelMethod | None = None

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

    async def probe_label_scoring(self) -> Completion:
        """Find ``label_method`` with one request: does the server score a continued assistant
        message (``prompt_logprobs``)? HTTP 400 for the unknown field (OpenAI), or a reply without
        it (Ollama, llama.cpp), means no. The ``Completion``'s text names the method and its usage
        is the probe's, for the gateway to count and cache (``Gateway.label_method``).

        Raises:
            Transient: the probe failed for a reason that says nothing about the capability.
        """
        started = time.perf_counter()
        prompt_tokens = 0
        try:
            _, prompt_tokens = await self._label_logprob(PROBE_LABEL_REQUEST, "yes")
            self.label_method = "whole_label"
        except (Fatal, Unsupported):
            self.label_method = "first_token"
        cost = None if self.price is None else self.price.cost(prompt_tokens, 1)
        if not prompt_tokens:  # refused (HTTP 400): nothing was generated or billed
            cost = 0.0
        return Completion(
            text=self.label_method,
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=1 if prompt_tokens else 0,
            cost_usd=cost,
            latency_s=time.perf_counter() - started,
        )

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Label probabilities: whole-label log-likelihoods where the server scores prompts, else the
        first answer token's ``top_logprobs`` estimate (see ``label_method``).

        Raises ``Unsupported`` when the server returns no log-probabilities at all.
        """
        if self.label_method is None:  # the gateway probes first (and counts it); a bare backend here
            await self.probe_label_scoring()
        if self.label_method == "first_token":
            return await score_labels_by_first_token(self.complete, self.model, request, labels)
        replies = await asyncio.gather(*(self._label_logprob(request, label) for label in labels))
        logprobs = [logprob for logprob, _ in replies]
        peak = max(logprobs)
        weights = [math.exp(lp - peak) for lp in logprobs]
        prompt_tokens = sum(tokens for _, tokens in replies)
        cost = self.price.cost(prompt_tokens, len(labels)) if self.price is not None else None
        return LabelScores(
            probs={label: w / sum(weights) for label, w in zip(labels, weights, strict=True)},
            logprobs=dict(zip(labels, logprobs, strict=True)),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(labels),  # vLLM generates one token per request
            cost_usd=cost,
        )

    async def _label_logprob(self, request: ChatRequest, label: str) -> tuple[float, int]:
        body = whole_label_body(self._name, request, label, self._max_tokens_param)
        reply = await self._http.post("/chat/completions", body)
        usage = reply.get("usage") if isinstance(reply, dict) else None
        prompt_tokens = int((usage or {}).get("prompt_tokens") or 0)
        return label_logprob_from_reply(reply, label, self.model), prompt_tokens

    async def aclose(self) -> None:
        await self._http.aclose()
