"""Settings of the local backend, read from ``BackendSettings.options``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from soft_prompts.config import Precision

# Options that change speed, never answers, stay out of the response cache's key
# (``orchestrator.gateway.request_key``).
_SPEED_ONLY = {"json_schema_extra": {"changes_answers": False}}

__all__ = ["DTYPES", "PRECISION_SPELLINGS", "LocalModelOptions"]

#: dtype names users may write -> the torch dtype's name.
DTYPES = {"float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}  # fmt: skip

#: The old spellings of a compute precision -> the one vocabulary (``auto|fp32|bf16``, as ``soft.precision``).
PRECISION_SPELLINGS = {"float32": "fp32", "bfloat16": "bf16"}


class LocalModelOptions(BaseModel):
    """How the local model runs (the ``options`` of a ``local/`` model; unknown keys are refused).

    Attributes:
        device: ``cpu``, ``cuda``, ``cuda:1``...; None picks ``cuda`` when available.
        dtype: ``float32``, ``bfloat16`` or ``float16``; None is float32 on CPU, bfloat16 on GPU.
        cache_dir: the cache root for converted models; None is ``$PROMPTFUSION_CACHE`` or
            ``~/.cache/promptfusion``.
        threads: torch intra-op threads; None keeps torch's default (the physical core count).
        batch_window_ms: how long the worker waits for more requests before running a batch.
        max_batch: the most requests in one micro-batch.
        max_batch_tokens: padded tokens per label-scoring forward pass.
        max_generate_tokens: padded prompt-plus-completion tokens per generation batch.
        scoring_precision: ``fp32``, ``auto`` or ``bf16`` (the vocabulary of ``soft.precision``; the
            old ``float32``/``bfloat16`` are read with a warning): the precision of label-scoring
            forward passes. ``fp32`` (the default) keeps the model's own precision: a request's
            label probabilities then do not depend on what it is micro-batched with (within 1e-5),
            so a seeded run repeats. ``auto`` uses bfloat16 autocast for a float32 model on a CPU
            with native bf16 (AVX512-BF16/AMX: faster, but probabilities move by a few hundredths
            with the batch's make-up, enough to flip arg-max labels) and the model's own precision
            otherwise. Generation always uses the model's precision.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str | None = Field(None, description="cpu, cuda, cuda:1... (None: cuda when available).")
    dtype: str | None = Field(None, description="float32, bfloat16 or float16 (None: float32 CPU, bf16 GPU).")
    cache_dir: str | None = Field(None, description="Cache root for converted models.", **_SPEED_ONLY)
    threads: int | None = Field(
        None, ge=1, description="torch intra-op threads (None: torch's default).", **_SPEED_ONLY
    )
    batch_window_ms: float = Field(
        5.0, ge=0, description="Wait for more requests before a batch (ms).", **_SPEED_ONLY
    )
    max_batch: int = Field(64, ge=1, description="Most requests in one micro-batch.", **_SPEED_ONLY)
    max_batch_tokens: int = Field(
        4096, ge=1, description="Padded tokens per label-scoring forward pass.", **_SPEED_ONLY
    )
    max_generate_tokens: int = Field(
        16384, ge=1, description="Padded tokens per generation batch.", **_SPEED_ONLY
    )
    scoring_precision: Precision = Field(
        "fp32", description="Precision of label-scoring passes: auto, fp32 (batch-invariant scores), bf16."
    )

    @field_validator("scoring_precision", mode="before")
    @classmethod
    def _one_vocabulary(cls, value: Any) -> Any:
        if isinstance(value, str) and value in PRECISION_SPELLINGS:
            new = PRECISION_SPELLINGS[value]
            warnings.warn(
                f"scoring_precision: {value!r} is the old spelling, read as {new!r} "
                "(precisions are written auto, fp32 or bf16, as soft.precision)",
                FutureWarning,
                stacklevel=2,
            )
            return new
        return value

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str | None) -> str | None:
        if value is not None and value.lower().removeprefix("torch.") not in DTYPES:
            raise ValueError(f"unknown dtype {value!r}; use one of {sorted(DTYPES)}")
        return value

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> LocalModelOptions:
        """Build from ``BackendSettings.options``.

        Raises:
            ValueError: an unknown key (the message lists the known ones) or an invalid value.
        """
        unknown = sorted(set(options) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"unknown local backend option(s) {unknown}; known: {sorted(cls.model_fields)}")
        values = dict(options)
        if values.get("cache_dir") is not None:
            values["cache_dir"] = str(values["cache_dir"])
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{field}: {first['msg']} (got {first.get('input')!r})") from None
