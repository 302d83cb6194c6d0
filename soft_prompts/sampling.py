"""Temperature-based task sampling for mixed-task batches.

Task t is drawn with probability ``p_t = n_t^(1/T) / sum_s n_s^(1/T)`` (T = 1: proportional to size;
T -> infinity: uniform), as in multilingual/multi-task mixing. Within a task, examples come from a shuffled
cycle so each one is seen once per pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def task_probabilities(sizes: Sequence[int], temperature: float) -> torch.Tensor:
    """``(num_tasks,)`` sampling probabilities (sum to 1).

    Raises:
        ValueError: a size is not positive or the temperature is not.
    """
    if not sizes or any(size <= 0 for size in sizes):
        raise ValueError(f"task_probabilities: sizes must be positive, got {list(sizes)}")
    if temperature <= 0:
        raise ValueError(f"task_probabilities: temperature must be > 0, got {temperature}")
    scaled = torch.tensor(sizes, dtype=torch.float64) ** (1.0 / temperature)
    return (scaled / scaled.sum()).float()


class MixedTaskSampler:
    """Draws batches of ``(task_id, example_index)`` pairs.

    Args:
        sizes: number of training examples per task.
        temperature: task-sampling temperature T.
        seed: seeds the task draws and the per-task shuffles.
    """

    def __init__(self, sizes: Sequence[int], temperature: float, seed: int) -> None:
        self.sizes = list(sizes)
        self.probabilities = task_probabilities(self.sizes, temperature)
        self._generator = torch.Generator().manual_seed(seed)
        self._orders: list[list[int]] = [[] for _ in self.sizes]

    def _next_example(self, task_id: int) -> int:
        if not self._orders[task_id]:
            self._orders[task_id] = torch.randperm(self.sizes[task_id], generator=self._generator).tolist()
        return self._orders[task_id].pop()

    def sample(self, batch_size: int) -> list[tuple[int, int]]:
        """One batch: ``batch_size`` pairs, tasks mixed according to the probabilities."""
        if len(self.sizes) == 1:
            return [(0, self._next_example(0)) for _ in range(batch_size)]
        tasks = torch.multinomial(self.probabilities, batch_size, replacement=True, generator=self._generator)
        return [(int(task), self._next_example(int(task))) for task in tasks]
