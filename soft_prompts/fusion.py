"""Gated fusion of a prompt pool (Dynamic Prompt Fusion's gate, ATTEMPT's instance-aware attention).

For a row of task ``t`` with input embeddings ``X``::

    logits_j = (W e_t)_j  [+ <G(mean(X)), mean_tokens(P_j)> / sqrt(d)   if instance_aware]
    gate     = softmax(logits / temperature)                                 (M weights summing to 1)
    prompt   = sum_j gate_j P_j  [+ P_target]

``W`` starts at zero, so the gate starts uniform over the pool and the fused prompt starts as the pool mean
(plus a zero-initialised target prompt). Given ``initial_gate_logits``, ``W`` starts instead at the
least-squares solution of ``W e_t = initial_gate_logits[t]`` (exact while ``num_tasks <= e``), so the gate can
start on a known prior (each task on its own prompt) without any parameter beyond the design's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from soft_prompts.config import FusionConfig


class GatedPromptFusion(nn.Module):
    """A pool of M prompts mixed per task (and optionally per input) by a softmax gate.

    Args:
        config: sizes and switches (see :class:`soft_prompts.config.FusionConfig`).
        pool: ``(M, n_virtual, d)`` source prompts, or a sequence of ``(n_virtual, d)`` tensors.
        target_prompt: optional ``(n_virtual, d)`` start value of the shared target prompt (zeros if omitted).
        initial_gate_logits: optional ``(num_tasks, M)`` task gate logits to start from (before the
            temperature; zeros, a uniform gate, if omitted). See :func:`own_prompt_gate_logits`.

    Shapes:
        pool ``(M, n_virtual, d)``, task embeddings ``(num_tasks, e)``, gate ``(batch, M)``;
        forward: task ids ``(batch,)`` [+ input embeddings ``(batch, length, d)``]
        -> ``(batch, n_virtual, d)``.

    Raises:
        ValueError: pool, target or initial gate logit shapes disagree with ``config``.
    """

    def __init__(
        self,
        config: FusionConfig,
        pool: torch.Tensor | Sequence[torch.Tensor],
        target_prompt: torch.Tensor | None = None,
        initial_gate_logits: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        pool_tensor = pool if isinstance(pool, torch.Tensor) else torch.stack(list(pool))
        expected = (config.pool_size, config.n_virtual_tokens, config.token_dim)
        if tuple(pool_tensor.shape) != expected:
            raise ValueError(f"GatedPromptFusion: pool shape {tuple(pool_tensor.shape)} != {expected}")
        self.config = config
        self.pool = nn.Parameter(pool_tensor.detach().float().clone(), requires_grad=not config.freeze_pool)
        self.target_prompt: nn.Parameter | None = None
        if config.use_target_prompt:
            start = (
                torch.zeros(expected[1:]) if target_prompt is None else target_prompt.detach().float().clone()
            )
            if tuple(start.shape) != expected[1:]:
                raise ValueError(
                    f"GatedPromptFusion: target_prompt shape {tuple(start.shape)} != {expected[1:]}"
                )
            self.target_prompt = nn.Parameter(start)
        elif target_prompt is not None:
            raise ValueError("GatedPromptFusion: target_prompt given but config.use_target_prompt is False")
        self.task_embeddings = nn.Embedding(config.num_tasks, config.task_embedding_dim)
        nn.init.normal_(self.task_embeddings.weight, std=1.0)
        self.gate = nn.Linear(config.task_embedding_dim, config.pool_size, bias=False)
        nn.init.zeros_(self.gate.weight)
        if initial_gate_logits is not None:
            self._start_gate_at(initial_gate_logits)
        self.instance_projector: nn.Sequential | None = None
        if config.instance_aware:
            # ATTEMPT's attention module: LayerNorm, down-projection, SiLU, up-projection back to d.
            self.instance_projector = nn.Sequential(
                nn.LayerNorm(config.token_dim),
                nn.Linear(config.token_dim, config.instance_hidden_dim),
                nn.SiLU(),
                nn.Linear(config.instance_hidden_dim, config.token_dim),
            )
            nn.init.zeros_(self.instance_projector[3].weight)
            nn.init.zeros_(self.instance_projector[3].bias)

    def _start_gate_at(self, logits: torch.Tensor) -> None:
        expected = (self.config.num_tasks, self.config.pool_size)
        if tuple(logits.shape) != expected:
            raise ValueError(
                f"GatedPromptFusion: initial_gate_logits shape {tuple(logits.shape)} != {expected}"
            )
        with torch.no_grad():
            embeddings = self.task_embeddings.weight  # (num_tasks, e)
            # Minimum-norm W with E W^T = logits (exact: E has full row rank while num_tasks <= e).
            self.gate.weight.copy_((torch.linalg.pinv(embeddings) @ logits.float()).T)

    @property
    def n_virtual_tokens(self) -> int:
        return self.config.n_virtual_tokens

    @property
    def token_dim(self) -> int:
        return self.config.token_dim

    def gate_logits(
        self,
        task_ids: torch.Tensor,
        input_embeds: torch.Tensor | None = None,
        input_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Unnormalised gate scores ``(batch, M)`` before the temperature.

        Raises:
            ValueError: an instance-aware gate called without input embeddings.
        """
        logits = self.gate(self.task_embeddings(task_ids))
        if self.instance_projector is None:
            return logits
        if input_embeds is None:
            raise ValueError("GatedPromptFusion: instance-aware gate needs input_embeds")
        embeds = input_embeds.float()
        if input_mask is None:
            pooled = embeds.mean(dim=1)
        else:
            weights = input_mask.to(embeds.dtype).unsqueeze(-1)
            pooled = (embeds * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        query = self.instance_projector(pooled)  # (batch, d)
        keys = self.pool.mean(dim=1)  # (M, d)
        return logits + query @ keys.T / math.sqrt(self.config.token_dim)

    def gate_weights(
        self,
        task_ids: torch.Tensor,
        input_embeds: torch.Tensor | None = None,
        input_mask: torch.Tensor | None = None,
        temperature: float | None = None,
    ) -> torch.Tensor:
        """Gate weights ``(batch, M)``: non-negative, each row sums to 1.

        Args:
            task_ids: ``(batch,)`` task indices.
            input_embeds: ``(batch, length, d)`` (instance-aware gate only).
            input_mask: ``(batch, length)`` 1 on real tokens.
            temperature: overrides ``config.temperature`` (e.g. to inspect the hard gate).
        """
        tau = self.config.temperature if temperature is None else temperature
        if tau <= 0:
            raise ValueError(f"GatedPromptFusion.gate_weights: temperature must be > 0, got {tau}")
        return torch.softmax(self.gate_logits(task_ids, input_embeds, input_mask) / tau, dim=-1)

    def task_gate_matrix(self) -> torch.Tensor:
        """``(num_tasks, M)`` gate weights from the task embeddings alone (the heatmap: tasks x pool)."""
        with torch.no_grad():
            task_ids = torch.arange(self.config.num_tasks, device=self.pool.device)
            logits = self.gate(self.task_embeddings(task_ids))
            return torch.softmax(logits / self.config.temperature, dim=-1).cpu()

    def forward(
        self,
        batch_size: int,
        task_ids: torch.Tensor | None = None,
        input_embeds: torch.Tensor | None = None,
        input_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Fused prompts ``(batch, n_virtual, d)`` in fp32.

        Raises:
            ValueError: ``task_ids`` missing or not of shape ``(batch_size,)``.
        """
        if task_ids is None or tuple(task_ids.shape) != (batch_size,):
            raise ValueError(f"GatedPromptFusion: task_ids of shape ({batch_size},) required")
        weights = self.gate_weights(task_ids, input_embeds, input_mask)  # (batch, M)
        fused = torch.einsum("bm,mnd->bnd", weights, self.pool)
        if self.target_prompt is not None:
            fused = fused + self.target_prompt.unsqueeze(0)
        return fused

    def grouped(
        self, batch_size: int, task_ids: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """One fused prompt per distinct task of the batch: ``(tasks, n_virtual, d)`` and ``(batch,)`` rows.

        ``None`` for an instance-aware gate, whose prompt differs from row to row.
        """
        if self.instance_projector is not None:
            return None
        if task_ids is None or tuple(task_ids.shape) != (batch_size,):
            raise ValueError(f"GatedPromptFusion: task_ids of shape ({batch_size},) required")
        distinct, rows = torch.unique(task_ids, return_inverse=True)
        return self.forward(int(distinct.shape[0]), task_ids=distinct), rows

    def static_prompt(self, task_id: int | None = None) -> torch.Tensor:
        """The ``(n_virtual, d)`` fused prompt of one task (for export and task vectors).

        Raises:
            ValueError: the gate is instance-aware (no single prompt per task exists) or ``task_id``
                is missing.
        """
        if self.instance_projector is not None:
            raise ValueError("GatedPromptFusion.static_prompt: an instance-aware gate has no per-task prompt")
        if task_id is None:
            raise ValueError("GatedPromptFusion.static_prompt: task_id is required")
        with torch.no_grad():
            task_ids = torch.tensor([task_id], device=self.pool.device)
            return self.forward(1, task_ids=task_ids)[0].detach().float().cpu().clone()


def own_prompt_gate_logits(own_prompt: Sequence[int | None], pool_size: int, margin: float) -> torch.Tensor:
    """``(num_tasks, M)`` gate logits that put each task on its own pool prompt, ``margin`` above the rest.

    With temperature ``tau`` the own prompt starts with weight ``1 / (1 + (M - 1) exp(-margin / tau))``
    (0.98 for M=2, margin 4, tau 1). A task without an own prompt (``None``) starts uniform.

    Args:
        own_prompt: per task, the index of its own prompt in the pool, or ``None``.
        pool_size: number M of pool prompts.
        margin: logit gap between the own prompt and every other one (>= 0).

    Raises:
        ValueError: an index outside the pool, or a negative margin.
    """
    if margin < 0:
        raise ValueError(f"own_prompt_gate_logits: margin must be >= 0, got {margin}")
    logits = torch.zeros(len(own_prompt), pool_size)
    for task_id, index in enumerate(own_prompt):
        if index is None:
            continue
        if not 0 <= index < pool_size:
            raise ValueError(
                f"own_prompt_gate_logits: task {task_id}: pool index {index} outside 0..{pool_size - 1}"
            )
        logits[task_id, index] = margin
    return logits
