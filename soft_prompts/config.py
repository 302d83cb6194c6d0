"""Frozen, self-validating configurations for the soft-prompt stage.

Each config checks its own fields in ``__post_init__`` and names the offending field in the error, so a bad
value fails where it is built rather than deep inside a training loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

InitKind = Literal["text", "vocab", "random", "stored", "vectors"]
MergeMethod = Literal["sum", "ties", "dare"]
LossWeighting = Literal["equal", "uncertainty", "dwa"]
Precision = Literal["auto", "fp32", "bf16"]

#: Soft prompt length when a caller names none (the orchestrator's ``soft.n_virtual_tokens`` reads it):
#: the length of the embedded-model benchmarks in BENCHMARKS.md.
N_VIRTUAL_TOKENS = 8

INIT_KINDS: tuple[str, ...] = ("text", "vocab", "random", "stored", "vectors")
MERGE_METHODS: tuple[str, ...] = ("sum", "ties", "dare")
LOSS_WEIGHTINGS: tuple[str, ...] = ("equal", "uncertainty", "dwa")
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


def _require(condition: bool, owner: str, name: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{owner}.{name}: {message}")


def _positive_int(owner: str, name: str, value: object) -> None:
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value > 0,
        owner,
        name,
        f"must be a positive integer, got {value!r}",
    )


def _positive_float(owner: str, name: str, value: object) -> None:
    _require(
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0,
        owner,
        name,
        f"must be a positive finite number, got {value!r}",
    )


@dataclass(frozen=True)
class PromptInit:
    """How to initialise a soft prompt of ``n_virtual_tokens`` rows.

    Attributes:
        kind: ``text`` (tokenise ``text``, repeat or truncate to n), ``vocab`` (rows of randomly sampled
            vocabulary embeddings), ``random`` (Gaussian with the embedding matrix's standard deviation),
            ``stored`` (a prompt saved by this package or a PEFT prompt-tuning adapter at ``path``),
            ``vectors`` (an origin plus a combination of stored task prompt vectors).
        text: the discrete prompt for ``kind="text"``.
        path: directory of the stored prompt or PEFT adapter for ``kind="stored"``.
        store_dir: the task-prompt-vector store for ``kind="vectors"``.
        vector_names: names of the stored vectors to combine for ``kind="vectors"``.
        weights: one weight per vector (default 1.0 each).
        merge: ``sum`` (weighted sum), ``ties`` or ``dare``.
        seed: seed for ``vocab`` and ``random`` (and DARE's drop mask).
    """

    kind: InitKind = "random"
    text: str | None = None
    path: str | None = None
    store_dir: str | None = None
    vector_names: tuple[str, ...] = ()
    weights: tuple[float, ...] | None = None
    merge: MergeMethod = "sum"
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "PromptInit"
        _require(self.kind in INIT_KINDS, owner, "kind", f"must be one of {INIT_KINDS}, got {self.kind!r}")
        _require(
            self.merge in MERGE_METHODS, owner, "merge", f"must be one of {MERGE_METHODS}, got {self.merge!r}"
        )
        if self.kind == "text":
            _require(
                bool(self.text and self.text.strip()),
                owner,
                "text",
                "is required (non-empty) for kind='text'",
            )
        if self.kind == "stored":
            _require(bool(self.path), owner, "path", "is required for kind='stored'")
        if self.kind == "vectors":
            _require(bool(self.store_dir), owner, "store_dir", "is required for kind='vectors'")
            _require(len(self.vector_names) > 0, owner, "vector_names", "needs at least one vector name")
            if self.weights is not None:
                _require(
                    len(self.weights) == len(self.vector_names),
                    owner,
                    "weights",
                    f"has {len(self.weights)} entries for {len(self.vector_names)} vectors",
                )


@dataclass(frozen=True)
class FusionConfig:
    """Gated fusion over a pool of prompts.

    Attributes:
        num_tasks: number of tasks that get a learnable task embedding.
        pool_size: number M of prompts in the pool.
        n_virtual_tokens: rows per prompt.
        token_dim: hidden size d of the frozen model.
        task_embedding_dim: size of each task embedding.
        temperature: softmax temperature of the gate; towards 0 the gate becomes one-hot.
        instance_aware: also condition the gate on the mean-pooled input embeddings (ATTEMPT-style).
        use_target_prompt: add a shared, trainable target prompt to the gate-weighted pool prompts.
        freeze_pool: keep the pool prompts fixed (only the gate, task embeddings and target prompt train).
        instance_hidden_dim: bottleneck width of the instance projector.
    """

    num_tasks: int
    pool_size: int
    n_virtual_tokens: int
    token_dim: int
    task_embedding_dim: int = 32
    temperature: float = 1.0
    instance_aware: bool = False
    use_target_prompt: bool = True
    freeze_pool: bool = True
    instance_hidden_dim: int = 64

    def __post_init__(self) -> None:
        owner = "FusionConfig"
        for name in (
            "num_tasks",
            "pool_size",
            "n_virtual_tokens",
            "token_dim",
            "task_embedding_dim",
            "instance_hidden_dim",
        ):
            _positive_int(owner, name, getattr(self, name))
        _positive_float(owner, "temperature", self.temperature)


@dataclass(frozen=True)
class TrainConfig:
    """Prompt-tuning hyper-parameters shared by single-task and multi-task training.

    Attributes:
        max_steps: optimiser steps at most.
        batch_size: examples per step (mixed across tasks in multi-task training).
        learning_rate: AdamW learning rate for prompt tensors (pool, target prompt, single prompt).
        gate_learning_rate: learning rate for task embeddings, gate, instance projector and loss weights.
        weight_decay: AdamW weight decay.
        warmup_steps: linear learning-rate warm-up.
        max_length: token budget for input plus target; inputs are truncated from the left.
        eval_every: steps between dev evaluations (0 disables evaluation).
        patience: dev evaluations without improvement before stopping (``None``: never stop early).
        seed: seeds torch and the batch sampler.
        task_sampling_temperature: task probability is proportional to ``size ** (1 / T)``; 1 is
            proportional to size, large values approach uniform.
        loss_weighting: ``equal``, ``uncertainty`` (Kendall et al. 2018) or ``dwa`` (Liu et al. 2019).
        dwa_temperature: softness of DWA weights.
        dwa_window: steps averaged into one DWA loss reading.
        grad_clip: max gradient norm (``None`` disables clipping).
        eval_batch_size: sequences per forward pass during dev scoring.
        log_every: steps between progress reports (dev evaluations are always reported).
        gradient_checkpointing: recompute activations of the frozen model in the backward pass.
        fit_batch_size: lower ``batch_size`` if its estimated activations would not fit in half the free
            memory of the device (see :func:`soft_prompts.devices.suggest_batch_size`).
        use_accelerate: drive the loop through ``accelerate.Accelerator`` when it is installed.
        precision: compute dtype of the frozen model during training: ``bf16`` (autocast; prompt parameters,
            head and loss stay fp32), ``fp32`` (exact), or ``auto`` (bf16 on a CPU with AVX512-BF16 or AMX,
            else the model's own dtype; see :func:`soft_prompts.devices.autocast_dtype_for`).
        bucket_batches: batches per length-sorted chunk of training examples, so rows of a batch have similar
            lengths and little padding (see :mod:`soft_prompts.bucketing`); 1 turns bucketing off.
    """

    max_steps: int = 200
    batch_size: int = 8
    learning_rate: float = 3e-2
    gate_learning_rate: float = 1e-2
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_length: int = 256
    eval_every: int = 20
    patience: int | None = 5
    seed: int = 0
    task_sampling_temperature: float = 1.0
    loss_weighting: LossWeighting = "uncertainty"
    dwa_temperature: float = 2.0
    dwa_window: int = 10
    grad_clip: float | None = 1.0
    eval_batch_size: int = 32
    log_every: int = 1
    gradient_checkpointing: bool = False
    fit_batch_size: bool = True
    use_accelerate: bool = True
    precision: Precision = "auto"
    bucket_batches: int = 4

    def __post_init__(self) -> None:
        owner = "TrainConfig"
        for name in (
            "max_steps",
            "batch_size",
            "max_length",
            "dwa_window",
            "eval_batch_size",
            "log_every",
            "bucket_batches",
        ):
            _positive_int(owner, name, getattr(self, name))
        for name in ("learning_rate", "gate_learning_rate", "task_sampling_temperature", "dwa_temperature"):
            _positive_float(owner, name, getattr(self, name))
        _require(self.weight_decay >= 0, owner, "weight_decay", f"must be >= 0, got {self.weight_decay!r}")
        _require(
            isinstance(self.warmup_steps, int) and self.warmup_steps >= 0,
            owner,
            "warmup_steps",
            f"must be an integer >= 0, got {self.warmup_steps!r}",
        )
        _require(
            isinstance(self.eval_every, int) and self.eval_every >= 0,
            owner,
            "eval_every",
            f"must be an integer >= 0, got {self.eval_every!r}",
        )
        if self.patience is not None:
            _positive_int(owner, "patience", self.patience)
        if self.grad_clip is not None:
            _positive_float(owner, "grad_clip", self.grad_clip)
        _require(
            self.loss_weighting in LOSS_WEIGHTINGS,
            owner,
            "loss_weighting",
            f"must be one of {LOSS_WEIGHTINGS}, got {self.loss_weighting!r}",
        )
        _require(
            self.precision in PRECISIONS,
            owner,
            "precision",
            f"must be one of {PRECISIONS}, got {self.precision!r}",
        )
