"""One optimisation step of prompt tuning, shared by the training loop and the benchmarks.

Only the prompt module (and learned loss weights) are optimised; the frozen model never gets a gradient.
When ``accelerate`` is installed the step runs through ``accelerate.Accelerator``: one process here, and
``accelerate launch`` (or ``torchrun``) spreads the same code over several processes, data-parallel: every
rank draws the same seeded global batch, trains on its own equal shard (:meth:`PromptTrainer.shard`), and the
wrapper averages the prompt's gradients across ranks, so a step equals one step on the global batch. The loss
weights live inside the wrapped module so a data-parallel wrapper synchronises their gradients too.
"""

from __future__ import annotations

import torch
from torch import nn

from soft_prompts.config import TrainConfig
from soft_prompts.data import EncodedBatch
from soft_prompts.losses import build_loss_weighting, per_task_mean
from soft_prompts.model import SoftPromptModel

PROMPT_TENSOR_NAMES = ("embedding", "pool", "target_prompt")


class _WeightedLoss(nn.Module):
    """The prompted model and the loss weighting in one module."""

    def __init__(self, model: SoftPromptModel, weighting: nn.Module, num_tasks: int) -> None:
        super().__init__()
        self.model = model
        self.weighting = weighting
        self.num_tasks = num_tasks

    def forward(self, input_ids, attention_mask, labels, task_ids):
        output = self.model(input_ids, attention_mask, labels=labels, task_ids=task_ids)
        task_losses, present = per_task_mean(output.mean_loss(), task_ids, self.num_tasks)
        return self.weighting(task_losses, present), task_losses.detach(), present


def _parameter_groups(model: SoftPromptModel, weighting: nn.Module, config: TrainConfig) -> list[dict]:
    prompt_params, gate_params = [], []
    for name, parameter in model.prompt.named_parameters():
        if parameter.requires_grad:
            target = prompt_params if name.split(".")[0] in PROMPT_TENSOR_NAMES else gate_params
            target.append(parameter)
    gate_params.extend(parameter for parameter in weighting.parameters() if parameter.requires_grad)
    groups = [
        {"params": prompt_params, "lr": config.learning_rate},
        {"params": gate_params, "lr": config.gate_learning_rate},
    ]
    groups = [group for group in groups if group["params"]]
    if not groups:
        raise ValueError("PromptTrainer: the prompt module has no trainable parameters")
    return groups


def is_main_process() -> bool:
    """False on the non-zero ranks of a running data-parallel group (they compute, rank 0 writes)."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _make_accelerator(config: TrainConfig, device: torch.device):
    if not config.use_accelerate:
        return None
    try:
        from accelerate import Accelerator
    except ImportError:
        return None
    return Accelerator(cpu=device.type == "cpu")


class PromptTrainer:
    """Optimiser, schedule, loss weighting and (optionally) accelerate around a :class:`SoftPromptModel`.

    Args:
        model: the prompted model.
        num_tasks: number of tasks (task ids in batches are ``0..num_tasks-1``).
        config: learning rates, warm-up, clipping, loss weighting, ``use_accelerate``.

    Raises:
        ValueError: the prompt has no trainable parameter.
    """

    def __init__(self, model: SoftPromptModel, num_tasks: int, config: TrainConfig) -> None:
        self.model = model
        self.config = config
        self.weighting = build_loss_weighting(
            config.loss_weighting, num_tasks, config.dwa_temperature, config.dwa_window
        )
        device = model.base_model.get_input_embeddings().weight.device
        self.weighting.to(device)
        loss_module: nn.Module = _WeightedLoss(model, self.weighting, num_tasks)
        optimizer = torch.optim.AdamW(
            _parameter_groups(model, self.weighting, config), weight_decay=config.weight_decay
        )
        warmup = config.warmup_steps
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / (warmup + 1))
        )
        self.accelerator = _make_accelerator(config, device)
        if self.accelerator is not None:
            # The scheduler stays unwrapped: accelerate's wrapper steps it once per process on multi-GPU runs,
            # which would shorten the warm-up.
            loss_module, optimizer = self.accelerator.prepare(loss_module, optimizer)
            device = self.accelerator.device
        self.loss_module, self.optimizer, self.scheduler = loss_module, optimizer, scheduler
        self.device = torch.device(device)
        self._parameters = [p for group in optimizer.param_groups for p in group["params"]]

    @property
    def num_processes(self) -> int:
        return 1 if self.accelerator is None else int(self.accelerator.num_processes)

    def shard(self, pairs: list) -> list:
        """This rank's rows of a global batch (every rank samples the same one): rows ``rank::processes``.

        Raises:
            ValueError: the global batch does not split into equal shards (the averaged gradient would then
                weight rows unequally, unlike one process on the global batch).
        """
        processes = self.num_processes
        if processes == 1:
            return pairs
        if len(pairs) % processes:
            raise ValueError(
                f"batch size {len(pairs)} does not split evenly over {processes} processes; "
                "use a multiple of the process count"
            )
        return pairs[self.accelerator.process_index :: processes]

    @property
    def is_main_process(self) -> bool:
        """False on the non-zero ranks of a multi-process run (they stay quiet)."""
        return self.accelerator is None or self.accelerator.is_main_process

    def step(self, batch: EncodedBatch) -> tuple[float, torch.Tensor, torch.Tensor]:
        """Forward, backward, clip and update on one batch (already on :attr:`device`).

        Returns:
            ``(weighted loss, per-task mean losses (num_tasks,), per-task presence mask (num_tasks,))``.
        """
        with self.model.mode(True):
            loss, task_losses, present = self.loss_module(
                batch.input_ids, batch.attention_mask, batch.labels, batch.task_ids
            )
        if self.accelerator is not None:
            self.accelerator.backward(loss)
        else:
            loss.backward()
        if self.config.grad_clip is not None:
            if self.accelerator is not None:
                self.accelerator.clip_grad_norm_(self._parameters, self.config.grad_clip)
            else:
                torch.nn.utils.clip_grad_norm_(self._parameters, self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.detach()), task_losses, present
