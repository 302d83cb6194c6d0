"""Turn chat messages and answer labels into token ids for a local model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["encode_chat", "encode_labels"]


def encode_chat(tokenizer: Any, messages: Sequence[tuple[str, str]]) -> list[int]:
    """Token ids of a chat, ending where the assistant's answer starts.

    Uses the tokenizer's chat template. Tokenizers without one (base models) get the message
    contents separated by blank lines and a final newline, so the answer follows on its own line.

    Args:
        tokenizer: a Hugging Face tokenizer.
        messages: ``(role, content)`` pairs.

    Returns:
        The prompt's token ids.

    Raises:
        ValueError: no messages.
    """
    if not messages:
        raise ValueError("a chat request needs at least one message")
    if getattr(tokenizer, "chat_template", None):
        dicts = [{"role": role, "content": content} for role, content in messages]
        ids = tokenizer.apply_chat_template(
            dicts, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return [int(i) for i in ids]
    text = "\n\n".join(content for _, content in messages) + "\n"
    return list(tokenizer(text, add_special_tokens=True).input_ids)


def encode_labels(tokenizer: Any, labels: Sequence[str]) -> list[list[int]]:
    """Token ids of each label as the start of the assistant's answer.

    Args:
        tokenizer: a Hugging Face tokenizer.
        labels: distinct, non-empty label strings.

    Returns:
        One list of token ids per label.

    Raises:
        ValueError: no labels, an empty label, or a repeated label.
    """
    if not labels:
        raise ValueError("label scoring needs at least one label")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {list(labels)}")
    encoded = []
    for label in labels:
        ids = list(tokenizer(label, add_special_tokens=False).input_ids)
        if not ids:
            raise ValueError(f"label {label!r} encodes to no tokens")
        encoded.append(ids)
    return encoded
