"""``openai/<model>``: the official openai SDK, for OpenAI or any OpenAI-compatible server.

``api_base`` points it at vLLM, llama.cpp's server, LM Studio, Ollama's ``/v1`` ... One
``AsyncOpenAI`` client per backend is created up front and reused (connection pooling); the SDK's own
retries are off (``max_retries=0``) because the gateway retries, once, for every backend.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    LabelScores,
    LLMError,
    Unsupported,
)
from orchestrator.backends.first_token_labels import label_scores_from_first_token
from orchestrator.backends.http_errors import wrap_sdk_error
from orchestrator.backends.openai_format import completion_from_openai, openai_request_kwargs
from orchestrator.backends.pricing import price_for

__all__ = ["OpenAIBackend"]

# OpenAI's maximum; vLLM's default ``max_logprobs`` is 20 as well.
LABEL_TOP_LOGPROBS = 20
# Sent when no key is configured: local servers ignore it, and it stops the SDK from silently
# reading OPENAI_API_KEY (keys come only from the environment variable the campaign names).
NO_KEY = "no-key-configured"


class OpenAIBackend:
    """Chat completions through ``openai.AsyncOpenAI``.

    Args:
        model_name: the model as the server knows it (``"gpt-4o-mini"``, a vLLM model path ...).
        settings: ``api_base`` (default: OpenAI), ``api_key``, ``timeout`` and ``options``:
            ``extra_headers`` (dict), ``max_tokens_param`` (``"max_completion_tokens"`` for
            OpenAI reasoning models), ``price_usd_per_mtok`` ([input, output]).
    """

    supports_logprobs = True
    supports_label_scoring = True

    def __init__(self, model_name: str, settings: BackendSettings):
        import openai  # lazy: keeps `promptfusion --help` fast

        self.model = f"openai/{model_name}"
        self._name = model_name
        self._openai = openai
        options = dict(settings.options)
        self.price = price_for(model_name, options)
        self._max_tokens_param = str(options.get("max_tokens_param", "max_tokens"))
        self._client = openai.AsyncOpenAI(
            api_key=settings.api_key or NO_KEY,
            base_url=settings.api_base,
            timeout=settings.timeout,
            max_retries=0,
            default_headers=options.get("extra_headers"),
        )

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, api_base={str(self._client.base_url)!r})"

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion. Raises ``Transient`` / ``Timeout`` / ``RateLimited`` / ``Fatal``."""
        kwargs = openai_request_kwargs(request, self._max_tokens_param)
        started = time.perf_counter()
        try:
            # The SDK's documented raw-request API: same client, auth, timeout and status errors as
            # chat.completions.create, without its per-call parameter transform and pydantic response
            # models (together ~1/3 of the SDK's CPU per call, measured in benchmarks/gateway_bench.py).
            raw = await self._client.post(
                "/chat/completions", body={"model": self._name, **kwargs}, cast_to=str
            )
            response = json.loads(raw)
        except (self._openai.OpenAIError, ValueError) as error:
            raise self._wrap(error) from error
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
        probe = dataclasses.replace(
            request, temperature=0.0, max_tokens=1, logprobs=True, top_logprobs=LABEL_TOP_LOGPROBS
        )
        completion = await self.complete(probe)
        if not completion.logprobs:
            raise Unsupported(f"{self.model}: the server returned no logprobs, cannot score labels")
        first = completion.logprobs[0]
        return label_scores_from_first_token(
            first.top or ((first.token, first.logprob),),
            labels,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost_usd=completion.cost_usd,
        )

    async def aclose(self) -> None:
        await self._client.close()

    def _wrap(self, error: Exception) -> LLMError:
        return wrap_sdk_error(self._openai, self.model, error)
