"""The local model and the batch operations the worker thread runs on it.

Only the worker thread touches an engine: it loads the model on its first batch, so building a
backend is free and the event loop never waits for the load.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.local_model.chat import encode_chat, encode_labels, instruction_slot
from orchestrator.local_model.generation import GeneratedText, GenerationParams, generate_batch
from orchestrator.local_model.loading import load_causal_lm
from orchestrator.local_model.options import LocalModelOptions
from orchestrator.local_model.scoring import (
    ScoringItem,
    cpu_has_fast_bfloat16,
    plan_chunks,
    score_items_per_token,
)

__all__ = ["GenerateJob", "LabelLogLikelihoods", "LocalEngine", "ScoreJob"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreJob:
    """Score ``labels`` as the answer to the chat ``messages``."""

    messages: tuple[tuple[str, str], ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class GenerateJob:
    """Answer the chat ``messages``."""

    messages: tuple[tuple[str, str], ...]
    params: GenerationParams


@dataclass(frozen=True)
class LabelLogLikelihoods:
    """Summed log-likelihood of each label, in the order asked, and the prompt's token count.

    ``tokens[j]`` holds label ``j``'s ``(token id, token text, log-probability)`` triples, whose
    log-probabilities sum to ``logprobs[j]`` (a server reports them as ``prompt_logprobs``).
    """

    logprobs: tuple[float, ...]
    prompt_tokens: int
    tokens: tuple[tuple[tuple[int, str, float], ...], ...] = ()


class LocalEngine:
    """A causal LM with batched label scoring and batched generation.

    Args:
        source: what ``load_causal_lm`` accepts (embedded name, ``.gguf`` path, directory, Hub id).
        options: device, dtype, cache and batching settings.
        model, tokenizer: an already loaded pair (tests, or a caller sharing one model); when given,
            ``source`` is only a label.
        instruction: ``(n_virtual, d)`` soft-prompt embeddings that take the place of the system
            message's content in every scored chat (the system text itself is then ignored); None
            scores chats as they are. Scoring is otherwise the same code, so a soft prompt and a
            discrete one are measured alike.
    """

    def __init__(
        self,
        source: str,
        options: LocalModelOptions,
        *,
        model: Any = None,
        tokenizer: Any = None,
        instruction: Any = None,
    ):
        if (model is None) != (tokenizer is None):
            raise ValueError("pass both model and tokenizer, or neither")
        self.source = source
        self.options = options
        self._model = model
        self._tokenizer = tokenizer
        self._instruction = instruction

    def load(self) -> tuple[Any, Any]:
        """Load the model on first use (converting the embedded one if needed) and return it."""
        if self._model is None:
            if self.options.threads is not None:
                import torch

                torch.set_num_threads(self.options.threads)
            self._model, self._tokenizer = load_causal_lm(
                self.source,
                device=self.options.device,
                dtype=self.options.dtype,
                cache_dir=self.options.cache_dir,
            )
        return self._model, self._tokenizer

    def score(self, jobs: Sequence[ScoreJob]) -> list[LabelLogLikelihoods]:
        """Label log-likelihoods for a batch of jobs, in as few forward passes as the budget allows.

        Raises:
            ValueError: an empty chat, empty or repeated labels, or an input longer than the context.
        """
        model, tokenizer = self.load()
        prompts, lead = self._prompts(tokenizer, jobs)
        lead_length = 0 if lead is None else int(lead.shape[0])
        items = []
        for job, prompt in zip(jobs, prompts, strict=True):
            item = ScoringItem(
                tuple(prompt), tuple(tuple(ids) for ids in encode_labels(tokenizer, job.labels))
            )
            # Labels restart their positions after the prompt, so the longest label sets the extent.
            self._check_context(lead_length + len(prompt) + max(len(ids) for ids in item.label_ids))
            items.append(item)
        scores = score_items_per_token(
            model,
            items,
            pad_token_id=tokenizer.pad_token_id,
            max_batch_tokens=self.options.max_batch_tokens,
            autocast_dtype=self._scoring_autocast(model),
            lead_embeds=lead,
        )
        results = []
        for row, item in zip(scores, items, strict=True):
            tokens = tuple(
                tuple(
                    (token, tokenizer.decode([token]), logprob)
                    for token, logprob in zip(ids, per_token, strict=True)
                )
                for ids, per_token in zip(item.label_ids, row, strict=True)
            )
            results.append(LabelLogLikelihoods(tuple(sum(t) for t in row), len(item.prompt_ids), tokens))
        return results

    def _prompts(self, tokenizer: Any, jobs: Sequence[ScoreJob]) -> tuple[list[list[int]], Any]:
        """Each job's prompt ids, and the embeddings every prompt follows (None without a soft prompt).

        With a soft prompt, a prompt is the chat after the system message's content, and the lead is the
        template's header embedded, then the virtual tokens.
        """
        if self._instruction is None:
            return [encode_chat(tokenizer, job.messages) for job in jobs], None
        import torch

        if any(not job.messages or job.messages[0][0] != "system" for job in jobs):
            raise ValueError("a soft prompt takes the system message's place: every chat needs one first")
        slots = [instruction_slot(tokenizer, [("system", ""), *job.messages[1:]]) for job in jobs]
        headers = {slot.prefix_ids for slot in slots}
        if len(headers) != 1:
            raise ValueError("a soft prompt needs every chat to start with the same template header")
        embedding = self._model.get_input_embeddings()
        header = torch.tensor(list(headers.pop()), dtype=torch.long, device=embedding.weight.device)
        with torch.inference_mode():
            lead = torch.cat([embedding(header), self._instruction.to(embedding.weight)], dim=0)
        return [list(slot.suffix_ids) for slot in slots], lead

    def generate(self, jobs: Sequence[GenerateJob]) -> list[GeneratedText]:
        """Completions for a batch of jobs, decoded together in length-sorted groups.

        Raises:
            ValueError: an empty chat or a prompt that fills the context window.
        """
        model, tokenizer = self.load()
        prompts = [encode_chat(tokenizer, job.messages) for job in jobs]
        results: dict[int, GeneratedText] = {}
        lengths = [len(prompt) + job.params.max_tokens for prompt, job in zip(prompts, jobs, strict=True)]
        for chunk in plan_chunks(lengths, self.options.max_generate_tokens):
            texts = generate_batch(
                model, tokenizer, [prompts[i] for i in chunk], [jobs[i].params for i in chunk]
            )
            results.update(zip(chunk, texts, strict=True))
        return [results[index] for index in range(len(jobs))]

    def _scoring_autocast(self, model: Any) -> Any:
        """The autocast dtype for label scoring (see ``LocalModelOptions.scoring_precision``), or None."""
        import torch

        precision = self.options.scoring_precision
        if precision == "fp32":
            return None
        if precision == "bf16":
            return torch.bfloat16
        on_cpu = model.device.type == "cpu"
        fp32 = next(model.parameters()).dtype == torch.float32
        return torch.bfloat16 if on_cpu and fp32 and cpu_has_fast_bfloat16() else None

    def _check_context(self, length: int) -> None:
        context = getattr(self._model.config, "max_position_embeddings", None)
        if context is not None and length > context:
            raise ValueError(f"input has {length} tokens; the model's context window is {context}")
