"""Training examples, tasks and left-padded batches.

An example is an ``input_text`` (already formatted: discrete instruction, input, answer cue) and the
``target_text`` that should follow it. For classification tasks the target is one of the task's ``labels``
written exactly as it follows the input (usually with a leading space, e.g. ``" positive"``).

Batches are padded on the LEFT, so every target ends at the last column; the model then only needs logits for
the last few positions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PromptExample:
    """One (input, target) pair.

    Attributes:
        input_text: everything the model reads before the answer.
        target_text: the text the model should produce right after ``input_text``.
        input_ids: the input already tokenised (a chat template's tokens after the prompt's slot), used
            as they are instead of tokenising ``input_text``; None tokenises ``input_text``.
    """

    input_text: str
    target_text: str
    input_ids: tuple[int, ...] | None = None

    @property
    def model_input(self) -> str | tuple[int, ...]:
        """What :func:`tokenize_example` reads: the ids when given, else the text."""
        return self.input_ids if self.input_ids is not None else self.input_text


@dataclass(frozen=True)
class TaskData:
    """A task's examples and, for classification, its label set.

    Attributes:
        name: task name (used in progress reports, vector metadata and gate heatmaps).
        train: training examples.
        dev: development examples for early stopping.
        labels: the label strings as they follow the input; every target must be one of them.
        input_prefix: token ids every input starts with, placed BEFORE the virtual tokens (a chat
            template's header, so the prompt sits where a system message's content would); empty: the
            virtual tokens come first.

    Raises:
        ValueError: an empty name or training set, duplicate labels, or a target outside ``labels``.
    """

    name: str
    train: tuple[PromptExample, ...]
    dev: tuple[PromptExample, ...] = ()
    labels: tuple[str, ...] | None = None
    input_prefix: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_prefix", tuple(int(i) for i in self.input_prefix))
        if not self.name:
            raise ValueError("TaskData.name: must be non-empty")
        object.__setattr__(self, "train", tuple(self.train))
        object.__setattr__(self, "dev", tuple(self.dev))
        if not self.train:
            raise ValueError(f"TaskData[{self.name}].train: needs at least one example")
        if self.labels is None:
            return
        object.__setattr__(self, "labels", tuple(self.labels))
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ValueError(f"TaskData[{self.name}].labels: needs >= 2 distinct labels, got {self.labels!r}")
        for split in ("train", "dev"):
            for index, example in enumerate(getattr(self, split)):
                if example.target_text not in self.labels:
                    raise ValueError(
                        f"TaskData[{self.name}].{split}[{index}].target_text: {example.target_text!r} "
                        f"is not in labels {self.labels!r}"
                    )

    def fingerprint(self) -> str:
        """A 16-hex-digit content hash of the examples and labels: which data a prompt was tuned on."""
        content = {
            "train": [[e.input_text, e.target_text] for e in self.train],
            "dev": [[e.input_text, e.target_text] for e in self.dev],
            "labels": list(self.labels) if self.labels is not None else None,
        }
        if self.input_prefix:  # older fingerprints stay valid for data without a prefix
            content["input_prefix"] = list(self.input_prefix)
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def label_index(self, split: str = "dev") -> list[int]:
        """Index into ``labels`` of each target in ``split`` (``train`` or ``dev``)."""
        if self.labels is None:
            raise ValueError(f"TaskData[{self.name}]: has no label set")
        return [self.labels.index(example.target_text) for example in getattr(self, split)]


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids of one example; ``target_ids`` may be empty (scoring-only inputs)."""

    input_ids: tuple[int, ...]
    target_ids: tuple[int, ...]
    task_id: int = 0


@dataclass
class EncodedBatch:
    """A left-padded batch.

    Attributes:
        input_ids: ``(batch, length)`` token ids, padding on the left.
        attention_mask: ``(batch, length)`` 1 on real tokens, 0 on padding.
        labels: ``(batch, length)`` target ids, -100 on the input part and on padding.
        task_ids: ``(batch,)`` task index of each row.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    task_ids: torch.Tensor

    def to(self, device: torch.device | str) -> EncodedBatch:
        """Return the batch on ``device``."""
        return EncodedBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            self.labels.to(device),
            self.task_ids.to(device),
        )

    @property
    def num_tokens(self) -> int:
        """Real (non-padding) tokens in the batch."""
        return int(self.attention_mask.sum())


def pad_token_id(tokenizer) -> int:
    """The id used for padding: the tokenizer's pad token, else its EOS token, else 0.

    The value never reaches the model's output: padded positions are masked out.
    """
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def tokenize_example(
    tokenizer, input_text: str | Sequence[int], target_text: str, max_length: int, task_id: int = 0
) -> TokenizedExample:
    """Tokenise input and target separately so training and label scoring see identical ids.

    A text input gets the tokenizer's special tokens (e.g. a BOS); ids are taken as they are; the target
    gets none. When the pair is longer than ``max_length`` the input is cut from the LEFT, keeping the text
    nearest the answer.

    Raises:
        ValueError: the target alone does not fit in ``max_length``.
    """
    if isinstance(input_text, str):
        input_ids = list(tokenizer(input_text, add_special_tokens=True)["input_ids"])
    else:
        input_ids = [int(i) for i in input_text]
    target_ids = list(tokenizer(target_text, add_special_tokens=False)["input_ids"]) if target_text else []
    if len(target_ids) >= max_length:
        raise ValueError(
            f"target {target_text[:40]!r} has {len(target_ids)} tokens, max_length is {max_length}"
        )
    budget = max_length - len(target_ids)
    if len(input_ids) > budget:
        input_ids = input_ids[len(input_ids) - budget :]
    return TokenizedExample(tuple(input_ids), tuple(target_ids), task_id)


def tokenize_examples(
    tokenizer, examples: Sequence[PromptExample], max_length: int, task_id: int = 0
) -> list[TokenizedExample]:
    """Tokenise every example of one task (see :func:`tokenize_example`)."""
    return [
        tokenize_example(tokenizer, example.model_input, example.target_text, max_length, task_id)
        for example in examples
    ]


def collate(examples: Sequence[TokenizedExample], pad_id: int) -> EncodedBatch:
    """Left-pad tokenised examples into one batch.

    Args:
        examples: the rows of the batch.
        pad_id: padding token id (see :func:`pad_token_id`).

    Returns:
        An :class:`EncodedBatch` whose targets all end at the last column.
    """
    if not examples:
        raise ValueError("collate: empty batch")
    length = max(len(ex.input_ids) + len(ex.target_ids) for ex in examples)
    batch = len(examples)
    input_ids = torch.full((batch, length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((batch, length), dtype=torch.long)
    labels = torch.full((batch, length), -100, dtype=torch.long)
    for row, example in enumerate(examples):
        ids = list(example.input_ids) + list(example.target_ids)
        start = length - len(ids)
        input_ids[row, start:] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, start:] = 1
        if example.target_ids:
            labels[row, length - len(example.target_ids) :] = torch.tensor(
                example.target_ids, dtype=torch.long
            )
    task_ids = torch.tensor([example.task_id for example in examples], dtype=torch.long)
    return EncodedBatch(input_ids, attention_mask, labels, task_ids)


def encode_texts(tokenizer, texts: Sequence[str], max_length: int) -> EncodedBatch:
    """Left-pad raw texts (no targets) into one batch, e.g. for generation."""
    tokenized = [tokenize_example(tokenizer, text, "", max_length) for text in texts]
    return collate(tokenized, pad_token_id(tokenizer))
