"""The one contract every LLM backend implements, and the error hierarchy they raise.

A backend is a thin adapter from a provider's SDK to ``ChatRequest -> Completion``. Retries,
rate limits, caching, the ledger and budgets live in the gateway, once, for all backends.
Third-party exceptions are wrapped into ``LLMError`` subclasses at the backend boundary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from orchestrator.config.models import HOSTED_TIMEOUT_S

__all__ = [
    "Backend",
    "BackendSettings",
    "BudgetExceeded",
    "ChatRequest",
    "Completion",
    "Fatal",
    "LLMError",
    "LabelScores",
    "RateLimited",
    "Timeout",
    "TokenLogprob",
    "Transient",
    "Unsupported",
    "typed_options",
]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
class LLMError(Exception):
    """Base of every error a backend or the gateway raises."""


class Transient(LLMError):
    """Worth retrying: 5xx, dropped connection, malformed or empty response body."""


class Timeout(Transient):
    """The request took longer than the configured timeout."""


class RateLimited(Transient):
    """HTTP 429 or a provider's rate-limit error; ``retry_after`` in seconds when the server said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Fatal(LLMError):
    """Never retried: bad request, authentication, permission, unknown model (400/401/403/404)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Unsupported(LLMError):
    """The backend cannot do what was asked (e.g. label scoring without log-probabilities)."""


class BudgetExceeded(LLMError):
    """A hard budget (calls, tokens or USD) would be exceeded; ``budget`` names which."""

    def __init__(self, message: str, budget: str):
        super().__init__(message)
        self.budget = budget


# ---------------------------------------------------------------------------------------------
# Requests and responses
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request, independent of the provider.

    ``messages`` are ``(role, content)`` pairs with role in {"system", "user", "assistant"}.
    ``sample_index`` tells apart repeated samples of the same request when temperature > 0
    (it is part of the cache key and nothing else).
    """

    messages: tuple[tuple[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    seed: int | None = None
    sample_index: int = 0

    @classmethod
    def from_messages(cls, messages: Sequence[Mapping[str, str]], **kwargs) -> ChatRequest:
        return cls(messages=tuple((m["role"], m["content"]) for m in messages), **kwargs)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


@dataclass(frozen=True)
class TokenLogprob:
    """Log-probability of one generated token, with the top alternatives when asked for."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Completion:
    """What a backend returns. ``cost_usd`` is None when the price is unknown."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    finish_reason: str | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None
    latency_s: float = 0.0
    cached: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LabelScores:
    """Label likelihoods for a classification prompt.

    ``logprobs[label]`` is the summed log-likelihood of the label's tokens as the answer;
    ``probs`` is the softmax over the label set (sums to 1). ``completion_tokens`` and ``cost_usd``
    report the usage of hosted backends that score through a short completion (None: unknown).
    """

    probs: Mapping[str, float]
    logprobs: Mapping[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    cached: bool = False
    completion_tokens: int = 0
    cost_usd: float | None = None


@dataclass(frozen=True)
class BackendSettings:
    """How to reach a model. Built by the orchestrator from the campaign config.

    ``api_key`` is the resolved secret (read from the environment variable the config names); it is
    excluded from ``repr`` and must never be written to the cache, the run store, logs or reports.
    ``options`` carries provider-specific settings (e.g. ``device``, ``dtype``, ``cache_dir`` for
    ``local/``; extra headers for hosted providers): the provider's typed options model as the factory
    builds it (``provider_options``); a plain mapping is validated by the backend (tests, ``serve``).
    ``timeout`` comes from ``ModelConfig.effective_timeout``. ``headers`` are headers resolved from the
    environment (``options.extra_headers_env``, ``OPENAI_ORG_ID``...): they may hold secrets, are
    excluded from ``repr`` and are sent after (over) ``options.extra_headers``.
    """

    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = HOSTED_TIMEOUT_S
    options: BaseModel | Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


# ---------------------------------------------------------------------------------------------
# The backend protocol
# ---------------------------------------------------------------------------------------------
@runtime_checkable
class Backend(Protocol):
    """One provider behind one interface.

    Attributes:
        model: the model string as configured, e.g. ``"openai/gpt-4o-mini"``.
        supports_logprobs: whether ``Completion.logprobs`` can be filled.
        supports_label_scoring: whether ``score_labels`` is implemented natively.
    """

    model: str
    supports_logprobs: bool
    supports_label_scoring: bool

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one request. Raises an ``LLMError`` subclass on failure, never returns empty on error."""
        ...

    async def score_labels(self, request: ChatRequest, labels: Sequence[str]) -> LabelScores:
        """Score each label as the assistant's answer to ``request``. Raises ``Unsupported`` if unable."""
        ...

    async def aclose(self) -> None:
        """Release HTTP clients / model resources."""
        ...


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def typed_options(model: type[OptionsT], options: BaseModel | Mapping[str, Any]) -> OptionsT:
    """``options`` as a provider's typed model: the factory hands it over typed (validated once, when
    the campaign loaded); a plain mapping (tests, ``serve``) is validated here."""
    return options if isinstance(options, model) else model.model_validate(dict(options))
