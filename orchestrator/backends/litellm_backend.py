"""``litellm/<any litellm model string>``: the general gateway (hosted providers, Ollama, vLLM, Bedrock ...).

litellm is imported lazily (it takes seconds), with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first so
that importing it never reaches the network for its price list. Its own retries are off: the gateway
retries. Costs come from litellm's cost map (``response_cost``) where it knows the model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import os
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from pydantic import Field, field_validator

from orchestrator.backends.base import (
    BackendSettings,
    ChatRequest,
    Completion,
    Fatal,
    LabelScores,
    LLMError,
    Timeout,
    Transient,
    Unsupported,
    typed_options,
)
from orchestrator.backends.first_token_labels import score_labels_by_first_token
from orchestrator.backends.http_errors import describe_error, error_for_status
from orchestrator.backends.http_options import HostedOptions, looks_secret_name
from orchestrator.backends.json_http import merge_headers
from orchestrator.backends.openai_format import completion_from_openai, openai_request_kwargs
from orchestrator.backends.pricing import Price, model_price

__all__ = [
    "LiteLLMBackend",
    "LiteLLMOptions",
    "import_litellm",
    "litellm_price",
    "litellm_provider",
    "litellm_supports",
]


class LiteLLMOptions(HostedOptions):
    """``options`` of a ``litellm/`` model (unknown keys are refused when the campaign loads)."""

    litellm_params: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments of litellm.acompletion (no secrets)."
    )

    @field_validator("litellm_params")
    @classmethod
    def _no_literal_secrets(cls, params: dict[str, Any]) -> dict[str, Any]:
        for name in params:
            if looks_secret_name(name):
                raise ValueError(
                    f"{name!r} looks like a secret and the campaign file is saved with every run; set the "
                    "environment variable litellm reads for it instead (e.g. AWS_SECRET_ACCESS_KEY)"
                )
        return params


def import_litellm() -> ModuleType:
    """Import litellm without network access at import time and without its console banners."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    # These are litellm's own module switches; they only silence litellm's stdout chatter
    # ("Give Feedback / Get Help") and its anonymous telemetry, for every user of litellm alike.
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def litellm_provider(litellm: ModuleType, model_name: str) -> str:
    """The provider litellm routes ``model_name`` to (``ollama``, ``openai``, ``bedrock``...).

    Raises:
        ValueError: litellm knows no provider for it (the message lists close provider names).
    """
    try:
        return str(litellm.get_llm_provider(model_name)[1])
    except Exception:  # litellm raises its own BadRequestError (or others) for an unknown provider
        known = [str(getattr(p, "value", p)) for p in litellm.provider_list]
        prefix = model_name.split("/", 1)[0]
        close = difflib.get_close_matches(prefix, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else " (see litellm's provider list)"
        raise ValueError(f"litellm knows no provider for {model_name!r}{hint}") from None


def litellm_price(litellm: ModuleType, model_name: str) -> Price | None:
    """litellm's list price for ``model_name``, or None when its cost map does not know it."""
    try:
        info = litellm.get_model_info(model_name)
    except Exception:  # unknown to litellm's cost map: it raises a bare Exception
        return None
    input_cost, output_cost = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if input_cost is None or output_cost is None:
        return None
    return Price(float(input_cost) * 1e6, float(output_cost) * 1e6)


def litellm_supports(litellm: ModuleType, model_name: str, param: str) -> bool:
    """Whether litellm lists the OpenAI parameter ``param`` (e.g. ``logprobs``) for the model's provider."""
    try:
        _, provider, _, _ = litellm.get_llm_provider(model_name)
        params = litellm.get_supported_openai_params(model=model_name, custom_llm_provider=provider)
    except Exception:  # litellm raises assorted types for unknown providers; then we cannot tell
        return False
    return bool(params) and param in params


class LiteLLMBackend:
    """Chat completions through ``litellm.acompletion``.

    Args:
        model_name: any litellm model string, e.g. ``"openai/gpt-4o-mini"``,
            ``"ollama_chat/llama3.1"``, ``"hosted_vllm/Qwen/Qwen2.5-7B-Instruct"``, ``"bedrock/..."``.
        settings: ``api_base``, ``api_key``, ``timeout`` and ``options``: ``litellm_params`` (a dict
            passed to ``acompletion`` as extra keyword arguments, e.g. ``aws_region_name``),
            ``extra_headers`` (dict), ``price_usd_per_mtok`` ([input, output]).
    """

    def __init__(self, model_name: str, settings: BackendSettings):
        self._litellm = import_litellm()
        import openai

        self._openai = openai
        self.model = f"litellm/{model_name}"
        self._name = model_name
        options = typed_options(LiteLLMOptions, settings.options)
        self._price_override = options.price_usd_per_mtok is not None
        # The same price the load-time spend check saw (the cost map's JSON), else litellm's routing.
        self.price = model_price(self.model, options.model_dump()) or litellm_price(self._litellm, model_name)
        self._fixed: dict[str, Any] = {
            "model": model_name,
            "timeout": settings.timeout,
            "max_retries": 0,
            "num_retries": 0,
        }
        if settings.api_base:
            self._fixed["api_base"] = settings.api_base
        if settings.api_key:
            self._fixed["api_key"] = settings.api_key
        headers = merge_headers(options.extra_headers, settings.headers)
        if headers:
            self._fixed["extra_headers"] = headers
        self._fixed.update(options.litellm_params)
        self.supports_logprobs = litellm_supports(self._litellm, model_name, "logprobs")
        self.supports_label_scoring = self.supports_logprobs
        # Labels are always estimated from the first answer token (the run says so when it starts).
        self.label_method = "first_token"

    def __repr__(self) -> str:
        return f"LiteLLMBackend(model={self.model!r}, api_base={self._fixed.get('api_base')!r})"

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one completion. Raises ``Transient`` / ``Timeout`` / ``RateLimited`` / ``Fatal``."""
        kwargs = openai_request_kwargs(request)
        started = time.perf_counter()
        try:
            response = await self._litellm.acompletion(**self._fixed, **kwargs)
        except (self._openai.OpenAIError, ValueError) as error:
            raise self._wrap(error) from error
        completion = completion_from_openai(
            response, self.model, time.perf_counter() - started, request.logprobs
        )
        return dataclasses.replace(completion, cost_usd=self._cost(response, completion))

    def _cost(self, response: Any, completion: Completion) -> float | None:
        if self._price_override:
            return self.price.cost(completion.prompt_tokens, completion.completion_tokens)
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost")
        return float(cost) if cost is not None else None

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Estimate label probabilities from the first answer token's ``top_logprobs``.

        Raises ``Unsupported`` when the provider gives no log-probabilities (see ``first_token_labels``).
        """
        if not self.supports_logprobs:
            raise Unsupported(f"{self.model}: litellm reports no logprobs support for this provider")
        return await score_labels_by_first_token(self.complete, self.model, request, labels)

    async def aclose(self) -> None:
        """Close the HTTP clients litellm cached for the running event loop.

        litellm keeps one client per (settings, event loop) in a process-wide cache; the clients of
        this loop are removed from it and closed, so a later call in another loop starts fresh.
        """
        cache = self._litellm.in_memory_llm_clients_cache
        suffix = f"-{id(asyncio.get_running_loop())}"
        for key in [key for key in list(cache.cache_dict) if str(key).endswith(suffix)]:
            client = cache.cache_dict.pop(key, None)
            cache.ttl_dict.pop(key, None)
            closer = getattr(client, "close", None) or getattr(client, "aclose", None)
            if closer is None:
                continue
            result = closer()
            if asyncio.iscoroutine(result):
                await result

    def _wrap(self, error: Exception) -> LLMError:
        openai = self._openai
        if isinstance(error, openai.APITimeoutError):
            return Timeout(f"{self.model}: request timed out")
        status = getattr(error, "status_code", None)
        if isinstance(error, openai.APIStatusError) or status is not None:
            headers = getattr(error, "litellm_response_headers", None)
            if not headers:
                response = getattr(error, "response", None)
                headers = getattr(response, "headers", None)
            return error_for_status(status, f"{self.model}: {describe_error(error)}", headers)
        if isinstance(error, openai.APIConnectionError):
            return Transient(f"{self.model}: connection failed: {describe_error(error)}")
        if isinstance(error, ValueError):
            return Transient(f"{self.model}: malformed response: {describe_error(error)}")
        return Fatal(f"{self.model}: {type(error).__name__}: {describe_error(error)}")
