"""Multi-task loss weighting: equal, uncertainty weighting (Kendall et al. 2018) and DWA (Liu et al. 2019).

Each weighting turns the per-task mean losses of a batch ``(num_tasks,)`` plus a mask of the tasks present in
that batch into one scalar to minimise, and reports its current per-task weights for progress curves.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class EqualWeighting(nn.Module):
    """Mean of the present tasks' losses."""

    def __init__(self, num_tasks: int) -> None:
        super().__init__()
        self.num_tasks = num_tasks

    def forward(self, task_losses: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return task_losses[present].mean()

    def weights(self) -> torch.Tensor:
        return torch.ones(self.num_tasks)


class UncertaintyWeighting(nn.Module):
    """Learned uncertainty weights: ``sum_t exp(-s_t) L_t + s_t / 2`` with ``s_t = log sigma_t^2``.

    The ``s_t / 2`` term stops the weights from collapsing to zero; tasks whose loss stays high get a larger
    sigma and thus a smaller weight ``exp(-s_t)``.
    """

    def __init__(self, num_tasks: int) -> None:
        super().__init__()
        self.log_variance = nn.Parameter(torch.zeros(num_tasks))

    def forward(self, task_losses: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        log_variance = self.log_variance.to(task_losses.device)
        terms = torch.exp(-log_variance) * task_losses + 0.5 * log_variance
        return terms[present].sum() / present.sum().clamp(min=1)

    def weights(self) -> torch.Tensor:
        return torch.exp(-self.log_variance.detach()).cpu()


class DynamicWeightAverage(nn.Module):
    """DWA: ``w_t = T * softmax(r_t / temperature)``, ``r_t`` = ratio of a task's last two windowed losses.

    Args:
        num_tasks: number of tasks T.
        temperature: softness of the weights (large: close to equal).
        window: steps averaged into one loss reading (the original averages over an epoch).
    """

    def __init__(self, num_tasks: int, temperature: float = 2.0, window: int = 10) -> None:
        super().__init__()
        self.num_tasks = num_tasks
        self.temperature = temperature
        self.window = window
        self._sums = torch.zeros(num_tasks)
        self._counts = torch.zeros(num_tasks)
        self._steps = 0
        self._history: list[torch.Tensor] = []
        self._weights = torch.ones(num_tasks)

    def _update(self, task_losses: torch.Tensor, present: torch.Tensor) -> None:
        self._sums += torch.where(
            present.cpu(), task_losses.detach().float().cpu(), torch.zeros(self.num_tasks)
        )
        self._counts += present.cpu().float()
        self._steps += 1
        if self._steps % self.window:
            return
        previous = self._history[-1] if self._history else None
        reading = torch.where(
            self._counts > 0, self._sums / self._counts.clamp(min=1), torch.full_like(self._sums, math.nan)
        )
        if previous is not None:
            # A task missing from a window keeps its previous reading.
            reading = torch.where(torch.isnan(reading), previous, reading)
        self._history.append(reading)
        self._sums.zero_()
        self._counts.zero_()
        if len(self._history) >= 2:
            ratio = self._history[-1] / self._history[-2].clamp(min=1e-8)
            ratio = torch.nan_to_num(ratio, nan=1.0)
            self._weights = self.num_tasks * torch.softmax(ratio / self.temperature, dim=0)

    def forward(self, task_losses: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        self._update(task_losses, present)
        weights = self._weights.to(task_losses.device)
        return (weights * task_losses)[present].sum() / present.sum().clamp(min=1)

    def weights(self) -> torch.Tensor:
        return self._weights.clone()


def build_loss_weighting(
    kind: str, num_tasks: int, dwa_temperature: float = 2.0, dwa_window: int = 10
) -> nn.Module:
    """The weighting named ``kind`` (``equal``, ``uncertainty``, ``dwa``); one task always uses ``equal``.

    Raises:
        ValueError: unknown kind.
    """
    if num_tasks == 1 or kind == "equal":
        return EqualWeighting(num_tasks)
    if kind == "uncertainty":
        return UncertaintyWeighting(num_tasks)
    if kind == "dwa":
        return DynamicWeightAverage(num_tasks, dwa_temperature, dwa_window)
    raise ValueError(f"build_loss_weighting: unknown kind {kind!r}")


def per_task_mean(
    losses: torch.Tensor, task_ids: torch.Tensor, num_tasks: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average per-row losses ``(batch,)`` by task: returns ``(num_tasks,)`` means and a presence mask."""
    totals = torch.zeros(num_tasks, device=losses.device, dtype=losses.dtype).index_add(0, task_ids, losses)
    counts = torch.zeros(num_tasks, device=losses.device, dtype=losses.dtype).index_add(
        0, task_ids, torch.ones_like(losses)
    )
    present = counts > 0
    return totals / counts.clamp(min=1), present
