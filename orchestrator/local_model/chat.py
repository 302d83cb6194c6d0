"""Turn chat messages and answer labels into token ids for a local model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["InstructionSlot", "encode_chat", "encode_labels", "instruction_slot"]

# Stands in for the system message's content while the template is rendered, so the text on either side
# of the instruction can be cut out; no template or input contains it.
_SLOT = "\x00promptfusion-instruction\x00"


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
    text, special = _render(tokenizer, messages)
    return [int(i) for i in tokenizer(text, add_special_tokens=special).input_ids]


def _render(tokenizer: Any, messages: Sequence[tuple[str, str]]) -> tuple[str, bool]:
    """The chat as text, and whether the tokenizer adds its special tokens to it.

    ``apply_chat_template(tokenize=True)`` is exactly this text tokenised without special tokens (the
    template writes them itself), so rendering and tokenising in two steps changes no id.
    """
    if not messages:
        raise ValueError("a chat request needs at least one message")
    if getattr(tokenizer, "chat_template", None):
        dicts = [{"role": role, "content": content} for role, content in messages]
        return tokenizer.apply_chat_template(dicts, add_generation_prompt=True, tokenize=False), False
    return "\n\n".join(content for _, content in messages) + "\n", True


@dataclass(frozen=True)
class InstructionSlot:
    """A chat cut where its system message's content (the instruction) sits.

    ``prefix_ids + instruction ids + suffix_ids`` is the chat as :func:`encode_chat` encodes it, whenever
    the tokenizer does not merge tokens across the instruction's edges (the chat templates' special tokens
    and newlines are hard boundaries; :func:`instruction_slot` checks it for the instruction it is given).

    Attributes:
        prefix_ids: the template's tokens before the instruction (``<|im_start|>system\n``, a BOS...).
        suffix_ids: everything after it, up to where the assistant's answer starts.
    """

    prefix_ids: tuple[int, ...]
    suffix_ids: tuple[int, ...]


def instruction_slot(tokenizer: Any, messages: Sequence[tuple[str, str]]) -> InstructionSlot:
    """Cut ``messages`` (a system message first) around the system message's content.

    A soft prompt's virtual tokens go into this slot, so it is scored on the very input a discrete
    instruction in that place is scored on.

    Raises:
        ValueError: no system message first, or the tokenizer merges the instruction with its neighbours
            (then no token sequence puts the virtual tokens where the instruction's tokens are).
    """
    if not messages or messages[0][0] != "system":
        raise ValueError("an instruction slot needs the chat to start with a system message")
    text, special = _render(tokenizer, [("system", _SLOT), *messages[1:]])
    if text.count(_SLOT) != 1:
        raise ValueError("the chat template does not write the system message's content exactly once")
    before, after = text.split(_SLOT)
    slot = InstructionSlot(
        tuple(tokenizer(before, add_special_tokens=special).input_ids),
        tuple(tokenizer(after, add_special_tokens=False).input_ids),
    )
    instruction = messages[0][1]
    if instruction:
        pieces = [*slot.prefix_ids, *tokenizer(instruction, add_special_tokens=False).input_ids]
        if pieces + list(slot.suffix_ids) != encode_chat(tokenizer, messages):
            raise ValueError("the tokenizer merges the instruction with the chat template around it")
    return slot


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
