"""The LLM for each role (reference, scorer, judge), one ``ModelConfig`` each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator

from orchestrator.config.strict import _Strict

EMBEDDED_MODEL = "local/smollm2-135m-instruct"

# The defaults of the model settings, defined here only: the gateway and the backends are handed the
# validated ``ModelConfig`` (or values derived from it), never a mirror with defaults of its own.
MAX_RETRIES = 5
HOSTED_TIMEOUT_S = 60.0
LOCAL_TIMEOUT_S = 1800.0
HOSTED_CONCURRENCY = 8
LOCAL_CONCURRENCY = 64


class ModelConfig(_Strict):
    """One backend for one role."""

    model: str = Field(EMBEDDED_MODEL, description="Backend and model, e.g. 'openai/gpt-4o-mini'.")
    api_base: str | None = Field(None, description="Base URL of an OpenAI-/Anthropic-compatible server.")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens to generate per call.")
    concurrency: int | None = Field(
        None,
        ge=1,
        le=1024,
        description=f"Most calls in flight at once (None: {HOSTED_CONCURRENCY} hosted, "
        f"{LOCAL_CONCURRENCY} for local/).",
    )
    rpm: int | None = Field(None, ge=1, description="Requests per minute limit (None: unlimited).")
    tpm: int | None = Field(None, ge=1, description="Tokens per minute limit (None: unlimited).")
    timeout: float | None = Field(
        None,
        gt=0,
        description=f"Seconds before one call times out (None: {HOSTED_TIMEOUT_S:g} hosted, "
        f"{LOCAL_TIMEOUT_S:g} for local/).",
    )
    max_retries: int = Field(
        MAX_RETRIES, ge=0, le=20, description="Retries of a transient failure before giving up."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Provider-specific settings (e.g. device, dtype for local/)."
    )
    # The provider's typed model of ``options``, kept once validated (see ``provider_options``).
    _provider_options: BaseModel | None = PrivateAttr(None)

    @field_validator("model")
    @classmethod
    def _has_provider(cls, value: str) -> str:
        if "/" not in value or value.startswith("/") or value.endswith("/"):
            raise ValueError(
                f"{value!r} is not '<provider>/<model>' "
                "(providers: litellm, openai, anthropic, local; e.g. 'openai/gpt-4o-mini')"
            )
        return value

    @property
    def is_local(self) -> bool:
        """Whether the model runs in this process (``local/``)."""
        return self.model.startswith("local/")

    @property
    def typed_options(self) -> BaseModel | None:
        """The provider's typed ``options`` once validated (None before: see ``provider_options``)."""
        return self._provider_options

    def keep_typed_options(self, options: BaseModel) -> None:
        """Keep the typed ``options`` the provider's model made of ``self.options``."""
        self._provider_options = options

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> ModelConfig:
        copy = super().model_copy(update=update, deep=deep)
        if update and {"model", "options"} & set(update):
            copy._provider_options = None  # typed from the old provider or options: validate afresh
        return copy

    def __eq__(self, other: object) -> bool:
        # The kept typed options derive from ``options``: a validated config equals its unvalidated copy.
        if not isinstance(other, ModelConfig):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model

    @property
    def effective_timeout(self) -> float:
        # An in-process model queues work behind one worker thread; a slow CPU is not an outage.
        if self.timeout is not None:
            return self.timeout
        return LOCAL_TIMEOUT_S if self.is_local else HOSTED_TIMEOUT_S

    @property
    def effective_concurrency(self) -> int:
        # An in-process model batches what is in flight together: more in flight means bigger batches.
        if self.concurrency is not None:
            return self.concurrency
        return LOCAL_CONCURRENCY if self.is_local else HOSTED_CONCURRENCY

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_env_name(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(
                "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), never the key itself"
            )
        return value


def _reference_default() -> ModelConfig:
    return ModelConfig(temperature=0.9, max_tokens=160)


def _scorer_default() -> ModelConfig:
    return ModelConfig(temperature=0.0, max_tokens=32)


class ModelsConfig(_Strict):
    """The LLM for each role."""

    reference: ModelConfig = Field(default_factory=_reference_default, description="Proposes prompts.")
    scorer: ModelConfig = Field(default_factory=_scorer_default, description="Runs prompts on task data.")
    judge: ModelConfig | None = Field(None, description="Scores LLM-judged dimensions (None: none judged).")
