"""Arithmetic on task prompt vectors: weighted sums, negation, TIES and DARE merging, cosine similarity.

All functions take and return plain tensors of one shape ``(n_virtual, d)`` (a stack is ``(M, n_virtual, d)``)
and never modify their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def _stack(vectors: Sequence[torch.Tensor], caller: str) -> torch.Tensor:
    if len(vectors) == 0:
        raise ValueError(f"{caller}: needs at least one vector")
    shapes = {tuple(vector.shape) for vector in vectors}
    if len(shapes) != 1:
        raise ValueError(f"{caller}: vectors have different shapes {sorted(shapes)}")
    return torch.stack([vector.detach().float() for vector in vectors])


def _weights(weights: Sequence[float] | None, count: int, caller: str) -> torch.Tensor:
    if weights is None:
        return torch.ones(count)
    if len(weights) != count:
        raise ValueError(f"{caller}: {len(weights)} weights for {count} vectors")
    if not all(math.isfinite(float(weight)) for weight in weights):
        raise ValueError(f"{caller}: weights must be finite, got {list(weights)}")
    return torch.tensor([float(weight) for weight in weights])


def _scale(stack: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return stack * weights.view(-1, *([1] * (stack.dim() - 1)))


def weighted_sum(vectors: Sequence[torch.Tensor], weights: Sequence[float] | None = None) -> torch.Tensor:
    """``sum_i w_i v_i`` (weights default to 1; a negative weight subtracts a task)."""
    stack = _stack(vectors, "weighted_sum")
    return _scale(stack, _weights(weights, len(vectors), "weighted_sum")).sum(dim=0)


def negate(vector: torch.Tensor) -> torch.Tensor:
    """``-v``: applied to an origin, moves away from the task (task forgetting)."""
    return -vector.detach().float()


def ties_merge(
    vectors: Sequence[torch.Tensor],
    weights: Sequence[float] | None = None,
    density: float = 0.2,
    scale: float = 1.0,
) -> torch.Tensor:
    """TIES merging (Yadav et al. 2023): trim, elect sign, disjoint mean.

    Args:
        vectors: task vectors of one shape.
        weights: per-vector weights applied before trimming.
        density: fraction of entries kept per vector (largest magnitudes), in ``(0, 1]``.
        scale: multiplies the merged vector (TIES' lambda).

    Returns:
        Per entry, the mean of the trimmed weighted values whose sign agrees with the sign of their sum.
    """
    if not 0 < density <= 1:
        raise ValueError(f"ties_merge: density must be in (0, 1], got {density}")
    stack = _scale(_stack(vectors, "ties_merge"), _weights(weights, len(vectors), "ties_merge"))
    flat = stack.reshape(len(vectors), -1)
    keep = max(1, math.ceil(density * flat.shape[1]))
    threshold = flat.abs().topk(keep, dim=1).values[:, -1:]
    trimmed = torch.where(flat.abs() >= threshold, flat, torch.zeros_like(flat))
    elected = torch.sign(trimmed.sum(dim=0))
    agrees = (torch.sign(trimmed) == elected) & (trimmed != 0)
    total = (trimmed * agrees).sum(dim=0)
    count = agrees.sum(dim=0).clamp(min=1)
    return (scale * total / count).reshape(stack.shape[1:])


def dare_merge(
    vectors: Sequence[torch.Tensor],
    weights: Sequence[float] | None = None,
    drop_rate: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """DARE (Yu et al. 2024): drop entries at random, rescale the rest by ``1 / (1 - p)``, then sum.

    Args:
        vectors: task vectors of one shape.
        weights: per-vector weights for the sum.
        drop_rate: probability p of dropping an entry, in ``[0, 1)``; 0 gives :func:`weighted_sum`.
        generator: random source for the drop masks (seed it for reproducible merges).
    """
    if not 0 <= drop_rate < 1:
        raise ValueError(f"dare_merge: drop_rate must be in [0, 1), got {drop_rate}")
    stack = _stack(vectors, "dare_merge")
    keep = torch.rand(stack.shape, generator=generator) >= drop_rate
    rescaled = stack * keep / (1.0 - drop_rate)
    return _scale(rescaled, _weights(weights, len(vectors), "dare_merge")).sum(dim=0)


def cosine_similarity_matrix(vectors: Sequence[torch.Tensor]) -> torch.Tensor:
    """``(M, M)`` cosine similarities between flattened vectors (0 where a vector is all zeros)."""
    flat = _stack(vectors, "cosine_similarity_matrix").reshape(len(vectors), -1).double()
    norms = flat.norm(dim=1, keepdim=True)
    unit = torch.where(
        norms > 0, flat / norms.clamp(min=torch.finfo(torch.float64).tiny), torch.zeros_like(flat)
    )
    similarity = (unit @ unit.T).clamp(-1.0, 1.0)
    return similarity.float()


def apply_to_origin(origin: torch.Tensor, vector: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """The prompt ``origin + scale * vector``.

    Raises:
        ValueError: shapes differ.
    """
    if origin.shape != vector.shape:
        raise ValueError(f"apply_to_origin: origin {tuple(origin.shape)} vs vector {tuple(vector.shape)}")
    return origin.detach().float() + scale * vector.detach().float()
