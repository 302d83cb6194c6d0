"""The LLM for each role (reference, scorer, judge), one ``ModelConfig`` each."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from orchestrator.config.strict import _Strict

EMBEDDED_MODEL = "local/smollm2-135m-instruct"


class ModelConfig(_Strict):
    """One backend for one role."""

    model: str = Field(EMBEDDED_MODEL, description="Backend and model, e.g. 'openai/gpt-4o-mini'.")
    api_base: str | None = Field(None, description="Base URL of an OpenAI-/Anthropic-compatible server.")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(256, ge=1, le=32768, description="Most tokens to generate per call.")
    concurrency: int | None = Field(
        None, ge=1, le=1024, description="Most calls in flight at once (None: 8 hosted, 64 for local/)."
    )
    rpm: int | None = Field(None, ge=1, description="Requests per minute limit (None: unlimited).")
    tpm: int | None = Field(None, ge=1, description="Tokens per minute limit (None: unlimited).")
    timeout: float | None = Field(
        None, gt=0, description="Seconds before one call times out (None: 60 hosted, 1800 for local/)."
    )
    max_retries: int = Field(5, ge=0, le=20, description="Retries of a transient failure before giving up.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Provider-specific settings (e.g. device, dtype for local/)."
    )

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
    def effective_timeout(self) -> float:
        # An in-process model queues work behind one worker thread; a slow CPU is not an outage.
        if self.timeout is not None:
            return self.timeout
        return 1800.0 if self.model.startswith("local/") else 60.0

    @property
    def effective_concurrency(self) -> int:
        # An in-process model batches what is in flight together: more in flight means bigger batches.
        if self.concurrency is not None:
            return self.concurrency
        return 64 if self.model.startswith("local/") else 8

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
