"""A single trainable soft prompt and the interface every prompt source follows.

A prompt source is an ``nn.Module`` that, called with the batch size (and optionally the task ids and the
input embeddings), returns the virtual-token embeddings ``(batch, n_virtual, d)`` to prepend. A single prompt
ignores the task and the input; :class:`soft_prompts.fusion.GatedPromptFusion` uses both.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class PromptSource(Protocol):
    """What :class:`soft_prompts.model.SoftPromptModel` needs from its prompt module."""

    n_virtual_tokens: int
    token_dim: int

    def __call__(
        self,
        batch_size: int,
        task_ids: torch.Tensor | None = None,
        input_embeds: torch.Tensor | None = None,
        input_mask: torch.Tensor | None = None,
    ) -> torch.Tensor: ...

    def static_prompt(self, task_id: int | None = None) -> torch.Tensor: ...


def shared_prompts(
    prompt: object, batch_size: int, task_ids: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The distinct prompts of a batch and which row uses which, when the prompt does not depend on the input.

    Returns:
        ``(prompts (groups, n_virtual, d), row_group (batch,))``, or ``None`` when every row may differ
        (an input-dependent prompt source, or one that does not say).
    """
    grouped = getattr(prompt, "grouped", None)
    return None if grouped is None else grouped(batch_size, task_ids)


class PromptEmbedding(nn.Module):
    """One learnable prompt of ``n_virtual`` rows, kept in fp32 whatever the base model's dtype.

    Args:
        initial: ``(n_virtual, d)`` starting values (copied).

    Shapes:
        ``embedding``: ``(n_virtual, d)`` -> output ``(batch, n_virtual, d)``.
    """

    def __init__(self, initial: torch.Tensor) -> None:
        super().__init__()
        if initial.dim() != 2 or initial.shape[0] < 1:
            raise ValueError(f"PromptEmbedding: initial must be (n_virtual, d), got {tuple(initial.shape)}")
        self.embedding = nn.Parameter(initial.detach().to(torch.float32).clone())

    @property
    def n_virtual_tokens(self) -> int:
        return int(self.embedding.shape[0])

    @property
    def token_dim(self) -> int:
        return int(self.embedding.shape[1])

    def forward(
        self,
        batch_size: int,
        task_ids: torch.Tensor | None = None,
        input_embeds: torch.Tensor | None = None,
        input_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Return the prompt for every row: ``(batch_size, n_virtual, d)``; task and input are ignored."""
        return self.embedding.unsqueeze(0).expand(batch_size, -1, -1)

    def grouped(
        self, batch_size: int, task_ids: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One prompt for all rows: ``(1, n_virtual, d)`` and ``(batch,)`` zeros."""
        rows = torch.zeros(batch_size, dtype=torch.long, device=self.embedding.device)
        return self.embedding.unsqueeze(0), rows

    def static_prompt(self, task_id: int | None = None) -> torch.Tensor:
        """The ``(n_virtual, d)`` prompt as a detached fp32 tensor (for export and task vectors)."""
        return self.embedding.detach().clone()
