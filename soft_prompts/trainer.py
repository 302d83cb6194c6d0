"""Single-task and multi-task prompt training with early stopping on dev.

One loop serves both: a single task is a multi-task run with one task. Batches mix tasks by temperature
sampling and group rows of similar length (:mod:`soft_prompts.bucketing`);
:class:`soft_prompts.train_step.PromptTrainer` runs each optimisation step (loss weighting, accelerate,
clipping). This module adds the loop around it: tokenisation, dev evaluation, early stopping
with the best prompt restored, and progress reports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from soft_prompts.bucketing import LengthBucketedSampler
from soft_prompts.config import TrainConfig
from soft_prompts.data import TaskData, collate, pad_token_id, tokenize_examples
from soft_prompts.devices import DevicePlan, suggest_batch_size
from soft_prompts.early_stopping import EarlyStopping
from soft_prompts.model import SoftPromptModel
from soft_prompts.sampling import MixedTaskSampler
from soft_prompts.scoring import label_probabilities
from soft_prompts.train_step import PromptTrainer


@dataclass(frozen=True)
class TrainProgress:
    """One progress report (what the orchestrator plots).

    Attributes:
        step: optimiser steps done (0 is the evaluation before training).
        loss: weighted training loss of this step (``nan`` at step 0).
        task_losses: mean loss per task present in this step's batch.
        loss_weights: current per-task loss weights.
        dev_score: dev score if evaluated at this step (higher is better).
        best_dev_score: best dev score so far.
        tokens_per_second: training tokens (virtual tokens included) per second so far.
        elapsed_s: seconds since training started.
    """

    step: int
    loss: float
    task_losses: dict[str, float]
    loss_weights: dict[str, float]
    dev_score: float | None
    best_dev_score: float | None
    tokens_per_second: float
    elapsed_s: float


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_prompt`; the model holds the best prompt (by dev score) afterwards.

    Attributes:
        steps: optimiser steps run.
        best_step: step of the best dev score (the last step when there is no dev scorer); 0 means the
            initial prompt was never beaten, so the result equals the start (see :attr:`trained_past_start`).
        best_dev_score: best dev score, or ``None`` without a dev scorer.
        stopped_early: whether patience ran out.
        history: every progress report.
        dev_curve: ``(step, dev score)`` pairs.
        train_tokens: tokens processed in training steps.
        elapsed_s: wall time of the loop.
        batch_size: the batch size used (``config.batch_size`` or less, see ``fit_batch_size``).
    """

    steps: int
    best_step: int
    best_dev_score: float | None
    stopped_early: bool
    history: tuple[TrainProgress, ...]
    dev_curve: tuple[tuple[int, float], ...]
    train_tokens: int
    elapsed_s: float
    batch_size: int

    @property
    def trained_past_start(self) -> bool:
        """Whether the kept prompt differs from the initial one (a best step after the evaluation at 0)."""
        return self.best_step > 0


DevScorer = Callable[[SoftPromptModel], float]
ProgressCallback = Callable[[TrainProgress], None]


def default_dev_scorer(tokenizer, tasks: Sequence[TaskData], config: TrainConfig) -> DevScorer | None:
    """Mean dev accuracy over labelled tasks, else minus the mean dev loss; ``None`` without dev data."""
    with_dev = [(task_id, task) for task_id, task in enumerate(tasks) if task.dev]
    if not with_dev:
        return None
    if all(task.labels is not None for _, task in with_dev):

        def accuracy(model: SoftPromptModel) -> float:
            scores = []
            for task_id, task in with_dev:
                probabilities = label_probabilities(
                    model,
                    tokenizer,
                    [example.model_input for example in task.dev],
                    task.labels or (),
                    [task_id] * len(task.dev),
                    config.eval_batch_size,
                    config.max_length,
                )
                gold = torch.tensor(task.label_index("dev"))
                scores.append(float((probabilities.argmax(dim=-1) == gold).float().mean()))
            return sum(scores) / len(scores)

        return accuracy
    return _negative_dev_loss(tokenizer, with_dev, config)


def _negative_dev_loss(tokenizer, with_dev: list[tuple[int, TaskData]], config: TrainConfig) -> DevScorer:
    rows = [
        row
        for task_id, task in with_dev
        for row in tokenize_examples(tokenizer, task.dev, config.max_length, task_id)
    ]
    pad_id = pad_token_id(tokenizer)

    @torch.no_grad()
    def score(model: SoftPromptModel) -> float:
        device = model.base_model.get_input_embeddings().weight.device
        losses = []
        with model.mode(False):
            for start in range(0, len(rows), config.eval_batch_size):
                batch = collate(rows[start : start + config.eval_batch_size], pad_id).to(device)
                output = model(
                    batch.input_ids, batch.attention_mask, labels=batch.labels, task_ids=batch.task_ids
                )
                losses.append(output.mean_loss().float().cpu())
        return -float(torch.cat(losses).mean())

    return score


def _fitted_batch_size(model: SoftPromptModel, rows: list[list], config: TrainConfig) -> int:
    """``config.batch_size``, lowered when its estimated activations would not fit in memory."""
    if not config.fit_batch_size:
        return config.batch_size
    longest = max(len(row.input_ids) + len(row.target_ids) for task_rows in rows for row in task_rows)
    embeddings = model.base_model.get_input_embeddings().weight
    plan = DevicePlan(str(embeddings.device), embeddings.dtype)
    return suggest_batch_size(
        model.base_model.config,
        longest,
        model.n_virtual_tokens,
        plan,
        config.batch_size,
        gradient_checkpointing=config.gradient_checkpointing,
    )


def batch_sampler(rows: Sequence[Sequence], config: TrainConfig) -> MixedTaskSampler | LengthBucketedSampler:
    """The training batches' sampler: tasks mixed by temperature, rows bucketed by length (unless
    ``config.bucket_batches`` is 1). ``rows[task_id]`` are the task's tokenised training examples."""
    sampler = MixedTaskSampler([len(r) for r in rows], config.task_sampling_temperature, config.seed)
    if config.bucket_batches == 1:
        return sampler
    lengths = [[len(row.input_ids) + len(row.target_ids) for row in task_rows] for task_rows in rows]
    return LengthBucketedSampler(sampler, lengths, config.bucket_batches, config.seed)


def _snapshot(model: SoftPromptModel) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.prompt.state_dict().items()}


class _Progress:
    """Builds :class:`TrainProgress` records, keeps them, and forwards them to the callback."""

    def __init__(self, names, weighting, callback: ProgressCallback | None, clock: Callable[[], float]):
        self.names, self.weighting, self.callback, self.clock = list(names), weighting, callback, clock
        self.start = clock()
        self.tokens = 0
        self.history: list[TrainProgress] = []

    def elapsed(self) -> float:
        return self.clock() - self.start

    def report(
        self, step: int, loss: float, task_losses: dict[str, float], dev: float | None, best: float | None
    ) -> None:
        elapsed = self.elapsed()
        weights = [float(w) for w in self.weighting.weights().tolist()]
        record = TrainProgress(
            step=step,
            loss=loss,
            task_losses=task_losses,
            loss_weights=dict(zip(self.names, weights, strict=True)),
            dev_score=dev,
            best_dev_score=best,
            tokens_per_second=self.tokens / elapsed if elapsed > 0 else 0.0,
            elapsed_s=elapsed,
        )
        self.history.append(record)
        if self.callback is not None:
            self.callback(record)


def train_prompt(
    model: SoftPromptModel,
    tokenizer,
    tasks: Sequence[TaskData],
    config: TrainConfig,
    progress: ProgressCallback | None = None,
    dev_scorer: DevScorer | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> TrainResult:
    """Tune the prompt of ``model`` on ``tasks`` (task id = position in ``tasks``).

    Args:
        model: the prompted frozen model (single prompt or fused prompt).
        tokenizer: the model's tokenizer.
        tasks: one task for single-task training, several for multi-task training.
        config: hyper-parameters.
        progress: called with a :class:`TrainProgress` every ``log_every`` steps and at each evaluation.
        dev_scorer: ``model -> score`` (higher is better); default :func:`default_dev_scorer`.
        clock: time source for throughput and elapsed time.

    Returns:
        A :class:`TrainResult`; the model holds the best prompt, in the mode it was given in.

    Raises:
        ValueError: no tasks, or the prompt has no trainable parameter.
    """
    if not tasks:
        raise ValueError("train_prompt: no tasks")
    torch.manual_seed(config.seed)
    names = [task.name for task in tasks]
    rows = [
        tokenize_examples(tokenizer, task.train, config.max_length, task_id)
        for task_id, task in enumerate(tasks)
    ]
    batch_size = _fitted_batch_size(model, rows, config)
    sampler = batch_sampler(rows, config)
    pad_id = pad_token_id(tokenizer)
    scorer = dev_scorer if dev_scorer is not None else default_dev_scorer(tokenizer, tasks, config)
    evaluating = scorer is not None and config.eval_every > 0
    session = PromptTrainer(model, len(tasks), config)
    log = _Progress(names, session.weighting, progress if session.is_main_process else None, clock)
    stopping = EarlyStopping(config.patience)
    dev_curve: list[tuple[int, float]] = []
    best_state = _snapshot(model)

    def evaluate(step: int) -> float:
        nonlocal best_state
        with model.mode(False):
            score = float(scorer(model))  # type: ignore[misc]
        dev_curve.append((step, score))
        if stopping.update(step, score):
            best_state = _snapshot(model)
        return score

    if evaluating:
        log.report(0, math.nan, {}, evaluate(0), stopping.best_score)
    step = 0
    for step in range(1, config.max_steps + 1):
        pairs = session.shard(sampler.sample(batch_size))
        batch = collate([rows[task_id][index] for task_id, index in pairs], pad_id).to(session.device)
        loss, task_losses, present = session.step(batch)
        log.tokens += batch.num_tokens + batch.input_ids.shape[0] * model.n_virtual_tokens
        evaluate_now = evaluating and step % config.eval_every == 0
        if evaluate_now or step % config.log_every == 0 or step == config.max_steps:
            per_task = {names[t]: float(task_losses[t]) for t in range(len(names)) if bool(present[t])}
            dev = evaluate(step) if evaluate_now else None
            log.report(step, float(loss), per_task, dev, stopping.best_score)
            if evaluate_now and stopping.should_stop:
                break
    if dev_curve:
        model.prompt.load_state_dict(best_state)
    return TrainResult(
        steps=step,
        best_step=stopping.best_step if dev_curve else step,
        best_dev_score=stopping.best_score,
        stopped_early=stopping.should_stop,
        history=tuple(log.history),
        dev_curve=tuple(dev_curve),
        train_tokens=log.tokens,
        elapsed_s=log.elapsed(),
        batch_size=batch_size,
    )
