"""The one training path of the soft stage: the graph's nodes and ``promptfusion soft train`` both call
:func:`train_task_prompt` (and the graph :func:`train_fusion`); neither builds a pipeline of its own.

Settings come from the campaign's validated ``SoftConfig`` (the CLI builds one from its options), turned into
a ``soft_prompts`` ``TrainConfig`` in one place, :func:`train_config`. Training is blocking torch work: async
callers run it in a worker thread.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.config import SoftConfig
from orchestrator.soft.data import SoftSplits
from orchestrator.soft.results import CurvePoint, FusionRecord, TrainedPrompt

__all__ = ["SoftProgress", "curve_of", "train_config", "train_fusion", "train_task_prompt"]


@dataclass(frozen=True)
class SoftProgress:
    """One progress report of one training (what the live display and the CLI's bar show).

    Attributes:
        name: which prompt (``source:<task>``, ``target:text``, ``fusion``, or the CLI's task name).
        step: optimiser steps done (0: the evaluation before training).
        max_steps: steps planned (training may stop earlier).
        loss: training loss of this step (None at step 0).
        dev: dev score when evaluated at this step.
        best_dev: best dev score so far.
        eta_s: estimated seconds left for this training (None before the first step).
    """

    name: str
    step: int
    max_steps: int
    loss: float | None
    dev: float | None
    best_dev: float | None
    eta_s: float | None


ProgressSink = Callable[[SoftProgress], None]


def launched_in_parallel() -> bool:
    """Whether this process is one rank of a data-parallel group (``accelerate launch``, ``torchrun``, or
    :mod:`orchestrator.soft.parallel`'s own workers)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def train_config(settings: SoftConfig, seed: int, steps: int | None = None):
    """The ``soft_prompts`` ``TrainConfig`` of the stage (``steps`` overrides ``settings.steps``)."""
    from soft_prompts.config import TrainConfig

    return TrainConfig(
        max_steps=steps or settings.steps,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        eval_every=settings.eval_every,
        patience=settings.patience,
        seed=seed,
        # One process trains as it always did; several average their gradients through Accelerate.
        use_accelerate=settings.processes > 1 or launched_in_parallel(),
        precision=settings.precision,
    )


def curve_of(result: Any) -> list[CurvePoint]:
    """Training curve points from a ``TrainResult`` (NaN losses become None)."""
    return [
        CurvePoint(
            step=p.step,
            loss=None if p.loss is None or math.isnan(p.loss) else float(p.loss),
            dev=p.dev_score,
        )
        for p in result.history
    ]


def _progress_adapter(name: str, max_steps: int, sink: ProgressSink | None):
    if sink is None:
        return None
    started = time.monotonic()

    def forward(record) -> None:
        elapsed = time.monotonic() - started
        eta = elapsed / record.step * (max_steps - record.step) if record.step else None
        loss = None if math.isnan(record.loss) else float(record.loss)
        sink(SoftProgress(name, record.step, max_steps, loss, record.dev_score, record.best_dev_score, eta))

    return forward


def train_task_prompt(
    model: Any,
    tokenizer: Any,
    model_id: str,
    splits: SoftSplits,
    init: Any,
    settings: SoftConfig,
    seed: int,
    out_dir: Path,
    vector_store: Path | None = None,
    name: str | None = None,
    progress: ProgressSink | None = None,
) -> TrainedPrompt:
    """Tune one soft prompt on one task and save it (with its TrainConfig, init, model id, data fingerprint).

    Args:
        model: the frozen local causal LM.
        tokenizer: its tokenizer.
        model_id: the model's name, recorded with the prompt.
        splits: the task's train and dev examples.
        init: a ``soft_prompts.config.PromptInit``.
        settings: the stage's settings (steps, batch size, learning rate, prompt length, eval cadence).
        seed: seeds initialisation and batches.
        out_dir: the prompt is saved here.
        vector_store: store its task prompt vector (named after the task) here.
        name: the name progress reports carry (default: the task name).
        progress: receives :class:`SoftProgress` reports.

    With ``settings.processes > 1`` the prompt is trained data-parallel in that many processes, each loading
    ``model_id`` itself (:mod:`orchestrator.soft.parallel`); ``model`` is then not used.

    Returns:
        The :class:`TrainedPrompt` record (not yet written to disk; see ``orchestrator.soft.nodes``).
    """
    from soft_prompts.api import train_soft_prompt

    if settings.processes > 1 and not launched_in_parallel():
        from orchestrator.soft.parallel import train_parallel

        return train_parallel(
            model_id, splits, init, settings, seed, out_dir, vector_store, name or splits.task.name, progress
        )
    config = train_config(settings, seed)
    run = train_soft_prompt(
        model,
        tokenizer,
        splits.task_data(tokenizer),
        init=init,
        n_virtual_tokens=settings.n_virtual_tokens,
        config=config,
        model_id=model_id,
        out_dir=out_dir,
        vector_store=vector_store,
        vector_name=splits.task.name if vector_store else None,
        progress=_progress_adapter(name or splits.task.name, config.max_steps, progress),
        warn_untrained=False,  # the stage reports it in its own words (soft_warning event, CLI line)
    )
    return TrainedPrompt(
        prompt_dir=str(run.prompt_dir),
        curve=curve_of(run.result),
        best_dev=run.result.best_dev_score,
        best_step=run.result.best_step,
        trained_past_start=run.result.trained_past_start,
        vector=run.vector_name,
    )


def train_fusion(
    model: Any,
    tokenizer: Any,
    model_id: str,
    splits: Sequence[SoftSplits],
    pool: Sequence[tuple[str, str]],
    settings: SoftConfig,
    seed: int,
    out_dir: Path,
    progress: ProgressSink | None = None,
) -> FusionRecord:
    """Train a gated fusion of ``pool`` (``(name, prompt dir)`` pairs) over the tasks of ``splits``, jointly.

    Returns:
        The :class:`FusionRecord` (gate weights: one row per task, one column per pool prompt).
    """
    from soft_prompts.api import train_fused_prompt

    config = train_config(settings, seed, settings.fusion_steps)
    run = train_fused_prompt(
        model,
        tokenizer,
        [s.task_data(tokenizer) for s in splits],
        [prompt_dir for _, prompt_dir in pool],
        config=config,
        temperature=settings.gate_temperature,
        model_id=model_id,
        out_dir=out_dir,
        progress=_progress_adapter("fusion", config.max_steps, progress),
    )
    return FusionRecord(
        prompt_dir=str(run.prompt_dir),
        curve=curve_of(run.result),
        best_dev=run.result.best_dev_score,
        best_step=run.result.best_step,
        trained_past_start=run.result.trained_past_start,
        tasks=[s.task.name for s in splits],
        pool=[pool_name for pool_name, _ in pool],
        gate=run.gate_matrix.tolist(),
    )
