"""The soft-prompt stage after the discrete search (local models only)."""

from __future__ import annotations

from pydantic import Field

from orchestrator.config.strict import _Strict
from soft_prompts.config import N_VIRTUAL_TOKENS, Precision, TrainConfig


class SoftConfig(_Strict):
    """The soft-prompt stage after the discrete search (local models only)."""

    enabled: bool = Field(False, description="Run the soft-prompt stage after stage 2.")
    model: str | None = Field(None, description="Local twin of the scorer (default: the scorer if local/).")
    n_virtual_tokens: int = Field(N_VIRTUAL_TOKENS, ge=1, le=512, description="Soft prompt length.")
    steps: int = Field(30, ge=1, description="Training steps per prompt.")
    batch_size: int = Field(TrainConfig.batch_size, ge=1, description="Examples per step.")
    learning_rate: float = Field(
        TrainConfig.learning_rate, gt=0, description="Learning rate of the prompt parameters."
    )
    fusion_steps: int | None = Field(None, ge=1, description="Steps of the gated fusion (None: steps).")
    gate_temperature: float = Field(1.0, gt=0, description="Softmax temperature of the fusion gate.")
    train_examples: int = Field(32, ge=1, description="Training examples per task (few-shot).")
    dev_examples: int = Field(16, ge=1, description="Dev examples per task for curves and early stopping.")
    eval_every: int = Field(10, ge=0, description="Steps between dev evaluations (0: none).")
    patience: int | None = Field(
        None, ge=1, description="Stop after this many dev evaluations without improvement (None: never)."
    )
    processes: int = Field(
        1,
        ge=1,
        description="Data-parallel training processes per prompt, through Accelerate (1: in-process).",
    )
    precision: Precision = Field(
        TrainConfig.precision,
        description="Training compute dtype: auto (bf16 where native, else fp32), fp32, bf16 (native only).",
    )
