"""Batched label-likelihood scoring and text generation with a soft prompt.

For an input x and label set {y_1..y_K}, each label is scored by ``log p(y_k | prompt, x)`` (summed over
its tokens, or averaged with ``length_normalise``) and the K scores are soft-maxed into probabilities that
sum to 1.
All N x K (input, label) sequences run through the model in left-padded batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from soft_prompts.data import (
    TaskData,
    TokenizedExample,
    collate,
    encode_texts,
    pad_token_id,
    tokenize_example,
)
from soft_prompts.model import SoftPromptModel


def _device(model: SoftPromptModel) -> torch.device:
    return model.base_model.get_input_embeddings().weight.device


@torch.no_grad()
def label_log_likelihoods(
    model: SoftPromptModel,
    tokenizer,
    inputs: Sequence[str | Sequence[int]],
    labels: Sequence[str],
    task_ids: Sequence[int] | None = None,
    batch_size: int = 32,
    max_length: int = 256,
    length_normalise: bool = False,
) -> torch.Tensor:
    """Log-likelihood of every label after every input.

    Args:
        model: the prompted model.
        tokenizer: its tokenizer.
        inputs: N formatted inputs (texts, or token ids taken as they are).
        labels: K label strings, exactly as they follow the input (e.g. ``" yes"``).
        task_ids: N task indices (fused prompts); default 0.
        batch_size: sequences per forward pass (N x K sequences in total).
        max_length: token budget per sequence (inputs are cut from the left).
        length_normalise: average instead of sum over a label's tokens.

    Returns:
        ``(N, K)`` fp32 log-likelihoods on the CPU.

    Raises:
        ValueError: no labels, or a label tokenises to nothing.
    """
    if not labels:
        raise ValueError("label_log_likelihoods: empty label set")
    task_list = list(task_ids) if task_ids is not None else [0] * len(inputs)
    rows: list[TokenizedExample] = []
    for index, text in enumerate(inputs):
        for label in labels:
            row = tokenize_example(tokenizer, text, label, max_length, task_list[index])
            if not row.target_ids:
                raise ValueError(f"label_log_likelihoods: label {label!r} produces no tokens")
            rows.append(row)
    device = _device(model)
    pad_id = pad_token_id(tokenizer)
    # Sorting by length keeps padding (wasted compute) low inside each batch.
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].input_ids) + len(rows[i].target_ids))
    scores = torch.empty(len(rows))
    with model.mode(False):
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = collate([rows[i] for i in chunk], pad_id).to(device)
            output = model(
                batch.input_ids, batch.attention_mask, labels=batch.labels, task_ids=batch.task_ids
            )
            values = output.target_logprob
            if length_normalise:
                values = values / output.target_tokens.clamp(min=1)
            scores[torch.tensor(chunk)] = values.float().cpu()
    return scores.view(len(inputs), len(labels))


def label_probabilities(
    model: SoftPromptModel,
    tokenizer,
    inputs: Sequence[str],
    labels: Sequence[str],
    task_ids: Sequence[int] | None = None,
    batch_size: int = 32,
    max_length: int = 256,
    length_normalise: bool = False,
) -> torch.Tensor:
    """``(N, K)`` probabilities over the label set (rows sum to 1).

    Arguments are those of :func:`label_log_likelihoods`.
    """
    scores = label_log_likelihoods(
        model, tokenizer, inputs, labels, task_ids, batch_size, max_length, length_normalise
    )
    return torch.softmax(scores, dim=-1)


def task_accuracy(
    model: SoftPromptModel,
    tokenizer,
    task: TaskData,
    task_id: int = 0,
    split: str = "dev",
    batch_size: int = 32,
    max_length: int = 256,
) -> float:
    """Accuracy in [0, 1] (higher is better) of argmax label probability on a labelled task split.

    Raises:
        ValueError: the task has no label set or the split is empty.
    """
    examples = getattr(task, split)
    if task.labels is None or not examples:
        raise ValueError(f"task_accuracy: task {task.name!r} needs labels and a non-empty {split} split")
    probabilities = label_probabilities(
        model,
        tokenizer,
        [example.model_input for example in examples],
        task.labels,
        [task_id] * len(examples),
        batch_size,
        max_length,
    )
    gold = torch.tensor(task.label_index(split))
    return float((probabilities.argmax(dim=-1) == gold).float().mean())


@torch.no_grad()
def generate_texts(
    model: SoftPromptModel,
    tokenizer,
    texts: Sequence[str],
    max_new_tokens: int = 32,
    task_ids: Sequence[int] | None = None,
    batch_size: int = 8,
    max_length: int = 256,
) -> list[str]:
    """Greedy completions (decoded, special tokens removed) of each text, in order."""
    outputs: list[str] = []
    device = _device(model)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        batch = encode_texts(tokenizer, chunk, max_length).to(device)
        ids = (
            None
            if task_ids is None
            else torch.tensor(list(task_ids[start : start + batch_size]), device=device)
        )
        generated = model.generate(batch.input_ids, batch.attention_mask, max_new_tokens, task_ids=ids)
        outputs.extend(tokenizer.batch_decode(generated, skip_special_tokens=True))
    return outputs
