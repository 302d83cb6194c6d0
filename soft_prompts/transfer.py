"""Transfer helpers for the orchestrated flow: task vectors across different origins, plain-data scoring.

In the orchestrated flow each source prompt starts from its own discrete winner (text initialisation),
so the source task prompt vectors have different origins. Task Prompt Vectors' arithmetic still
applies to the *deltas*: the target starts from its own text-initialised origin plus a weighted sum
of the source deltas. Results are returned as plain Python data so the orchestrator never handles
tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from soft_prompts.api import load_soft_prompt
from soft_prompts.arithmetic import cosine_similarity_matrix, weighted_sum
from soft_prompts.init import text_init
from soft_prompts.scoring import label_probabilities
from soft_prompts.vectors import drop_zero_vectors, load_vector

__all__ = ["delta_transfer_init", "score_prompt_dir", "vector_similarity"]


def delta_transfer_init(
    base_model,
    tokenizer,
    target_text: str,
    n_virtual: int,
    store_dir: str | Path,
    vector_names: Sequence[str],
    weights: Sequence[float] | None = None,
) -> torch.Tensor:
    """``text_init(target_text) + sum_i w_i * vector_i``: a target prompt initialised by transfer.

    Args:
        base_model: the frozen model (its input embeddings embed ``target_text``).
        tokenizer: its tokenizer.
        target_text: the discrete prompt the target starts from (its origin).
        n_virtual: prompt length; must match the vectors'.
        store_dir: the task-prompt-vector store.
        vector_names: source vectors to add.
        weights: one per vector (default: the mean, 1/len each, over the non-zero vectors).

    Returns:
        ``(n_virtual, d)`` float32 initial prompt.

    Raises:
        ValueError: no vectors, or a vector of another shape.
    """
    if not vector_names:
        raise ValueError("delta_transfer_init: needs at least one source vector")
    origin = text_init(target_text, tokenizer, base_model.get_input_embeddings().weight, n_virtual)
    given = dict(zip(vector_names, weights, strict=True)) if weights is not None else None
    kept = drop_zero_vectors({name: load_vector(store_dir, name).values.float() for name in vector_names})
    if not kept:
        return origin.float()
    vector_names, vectors = list(kept), list(kept.values())
    for name, vector in zip(vector_names, vectors, strict=True):
        if vector.shape != origin.shape:
            raise ValueError(
                f"vector {name!r} has shape {tuple(vector.shape)}, the target {tuple(origin.shape)}"
            )
    weights = [given[name] for name in vector_names] if given else [1.0 / len(vectors)] * len(vectors)
    return (origin + weighted_sum(vectors, weights)).float()


def vector_similarity(
    store_dir: str | Path, vector_names: Sequence[str]
) -> tuple[list[str], list[list[float]]]:
    """Cosine similarity between stored task prompt vectors: ``(names kept, matrix)`` as plain lists.

    Zero vectors (prompts not trained past their start) are left out with an ``UntrainedPromptWarning``.
    """
    vectors = drop_zero_vectors({name: load_vector(store_dir, name).values.float() for name in vector_names})
    if not vectors:
        return [], []
    return list(vectors), cosine_similarity_matrix(list(vectors.values())).tolist()


def score_prompt_dir(
    base_model,
    tokenizer,
    prompt_dir: str | Path,
    inputs: Sequence[str],
    labels: Sequence[str],
    task_id: int = 0,
    batch_size: int = 16,
) -> list[list[float]]:
    """Label probabilities (rows sum to 1) of a saved soft prompt on ``inputs``, as nested lists.

    ``task_id`` picks the task embedding of a fused prompt (ignored by a single prompt).
    """
    model = load_soft_prompt(prompt_dir, base_model)
    probs = label_probabilities(
        model, tokenizer, list(inputs), list(labels), [task_id] * len(inputs), batch_size
    )
    return probs.tolist()
