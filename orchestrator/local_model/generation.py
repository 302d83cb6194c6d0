"""Batched decoding with per-row settings: greedy or seeded sampling, max tokens, stop strings, logprobs.

A hand-written loop rather than ``model.generate`` because every row of a micro-batch brings its
own temperature, seed, stop strings and token limit: each sampled row draws from its own
``torch.Generator``, so a seeded request gives the same text whatever it was batched with.
Finished rows leave the batch (and the KV cache) at once.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.local_model.forward_api import accepts_logits_to_keep, cache_argument, returned_cache

__all__ = ["GeneratedText", "GenerationParams", "TokenChoice", "generate_batch"]


@dataclass(frozen=True)
class GenerationParams:
    """How to decode one row. ``temperature == 0`` is greedy; ``seed`` fixes sampling."""

    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")


@dataclass(frozen=True)
class TokenChoice:
    """A generated token, its log-probability under the model (temperature 1) and the top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class GeneratedText:
    """One row's result. ``finish_reason`` is ``stop`` (end of turn or a stop string) or ``length``."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    logprobs: tuple[TokenChoice, ...] | None = None


@dataclass
class _Row:
    params: GenerationParams
    generator: Any
    tokens: list[int]
    choices: list[TokenChoice]
    covered: int = 0  # characters of the output already attributed to a token (logprobs)
    text: str | None = None
    finish_reason: str | None = None


def generate_batch(
    model: Any, tokenizer: Any, prompts: Sequence[Sequence[int]], params: Sequence[GenerationParams]
) -> list[GeneratedText]:
    """Decode a batch of prompts, each with its own settings.

    Args:
        model: a Hugging Face causal LM.
        tokenizer: its tokenizer (``pad_token_id`` set).
        prompts: token ids of each prompt (non-empty).
        params: one ``GenerationParams`` per prompt.

    Returns:
        One ``GeneratedText`` per prompt, in order.

    Raises:
        ValueError: an empty prompt, or a prompt that fills the model's context window.
    """
    import torch

    context = getattr(model.config, "max_position_embeddings", None)
    for prompt in prompts:
        if not prompt:
            raise ValueError("cannot generate from an empty prompt")
        if context is not None and len(prompt) >= context:
            raise ValueError(f"prompt has {len(prompt)} tokens; the model's context window is {context}")
    device = model.device
    eos_ids = _eos_ids(model, tokenizer)
    rows = [_new_row(p, device) for p in params]
    longest = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), longest), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), longest), dtype=torch.long)
    for index, prompt in enumerate(prompts):
        input_ids[index, longest - len(prompt) :] = torch.tensor(list(prompt))
        attention[index, longest - len(prompt) :] = 1
    input_ids, attention = input_ids.to(device), attention.to(device)
    active = list(range(len(prompts)))
    cache = None
    keep_last = {"logits_to_keep": 1} if accepts_logits_to_keep(model) else {}
    with torch.inference_mode():
        while True:
            positions = (attention.cumsum(-1) - 1).clamp(min=0)[:, -input_ids.shape[1] :]
            out = model(
                input_ids=input_ids,
                attention_mask=attention,
                position_ids=positions,
                **cache_argument(model, cache),
                **keep_last,
            )
            cache = returned_cache(out)
            logprobs = out.logits[:, -1, :].float().log_softmax(-1)
            next_tokens, keep = [], []
            for batch_row, index in enumerate(active):
                row = rows[index]
                token = _choose(logprobs[batch_row], row)
                _advance(row, token, logprobs[batch_row], tokenizer, eos_ids, len(prompts[index]), context)
                if row.finish_reason is None:
                    keep.append(batch_row)
                    next_tokens.append(token)
            if not keep:
                break
            if len(keep) < len(active):
                keep_index = torch.tensor(keep, device=device)
                cache.batch_select_indices(keep_index)
                attention = attention[keep_index]
                active = [active[k] for k in keep]
            input_ids = torch.tensor(next_tokens, dtype=torch.long, device=device).unsqueeze(1)
            attention = torch.cat([attention, attention.new_ones((len(active), 1))], dim=1)
    return [_result(row, len(prompt), tokenizer) for row, prompt in zip(rows, prompts, strict=True)]


def _new_row(params: GenerationParams, device: Any) -> _Row:
    import torch

    generator = None
    if params.temperature > 0:
        seed = params.seed if params.seed is not None else random.SystemRandom().randrange(2**63)
        generator = torch.Generator(device=device).manual_seed(seed)
    return _Row(params=params, generator=generator, tokens=[], choices=[])


def _choose(logprobs: Any, row: _Row) -> int:
    import torch

    if row.generator is None:
        return int(logprobs.argmax())
    probs = (logprobs / row.params.temperature).softmax(-1)
    return int(torch.multinomial(probs, 1, generator=row.generator))


def _advance(
    row: _Row,
    token: int,
    logprobs: Any,
    tokenizer: Any,
    eos_ids: set[int],
    prompt_len: int,
    context: int | None,
) -> None:
    """Append ``token`` to ``row`` and decide whether the row is finished."""
    params = row.params
    row.tokens.append(token)
    if token in eos_ids:
        row.finish_reason = "stop"
        return
    text = tokenizer.decode(row.tokens, skip_special_tokens=True) if params.stop or params.logprobs else ""
    if params.logprobs:
        # A token may hold part of a multi-byte character: its text then shows up with the token
        # that completes the character, so the tokens' texts always join to the output.
        piece = "" if text.endswith("\ufffd") else text[row.covered :]
        row.covered += len(piece)
        top: tuple[tuple[str, float], ...] = ()
        if params.top_logprobs > 0:
            values, ids = logprobs.topk(params.top_logprobs)
            top = tuple((tokenizer.decode([int(i)]), float(v)) for v, i in zip(values, ids, strict=True))
        row.choices.append(TokenChoice(piece, float(logprobs[token]), top))
    if params.stop:
        cuts = [text.find(stop) for stop in params.stop if stop and stop in text]
        if cuts:
            row.text = text[: min(cuts)]
            row.finish_reason = "stop"
            return
    at_context_end = context is not None and prompt_len + len(row.tokens) >= context
    if len(row.tokens) >= params.max_tokens or at_context_end:
        row.finish_reason = "length"


def _result(row: _Row, prompt_len: int, tokenizer: Any) -> GeneratedText:
    text = row.text
    if text is None:
        text = tokenizer.decode(row.tokens, skip_special_tokens=True)
    return GeneratedText(
        text=text,
        prompt_tokens=prompt_len,
        # The end-of-turn token was generated (and paid for) even though it is not in the text.
        completion_tokens=len(row.tokens),
        finish_reason=row.finish_reason or "length",
        logprobs=_align(row.choices, text) if row.params.logprobs else None,
    )


def _align(choices: list[TokenChoice], text: str) -> tuple[TokenChoice, ...]:
    """Trim the token texts to ``text`` (a stop string cut it) or extend the last one (bytes that
    never formed a character), so that they join to exactly ``text``."""
    aligned: list[TokenChoice] = []
    covered = 0
    for choice in choices:
        if covered >= len(text) and aligned:
            break
        piece = choice.token[: max(len(text) - covered, 0)]
        aligned.append(TokenChoice(piece, choice.logprob, choice.top))
        covered += len(piece)
    if aligned and covered < len(text):
        last = aligned[-1]
        aligned[-1] = TokenChoice(last.token + text[covered:], last.logprob, last.top)
    return tuple(aligned)


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (config_eos, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value is not None:
            ids.update(int(v) for v in value)
    return ids
