"""``SoftPromptModel``: a frozen causal LM with trainable virtual tokens prepended to its input embeddings.

Placement follows PEFT prompt tuning: the virtual tokens come first, before any (left) padding, so a prompt
exported with :mod:`soft_prompts.peft_interop` behaves the same under ``peft.PeftModel``. Unlike PEFT,
position ids are computed from the attention mask (``cumsum - 1``): the real tokens of a left-padded row get
the positions they would have without padding, so a padded batch scores exactly like its rows one by one.

Two things make a training step cheaper than PEFT's without changing what is computed:

* **Shared prefix.** The virtual tokens come first and attend only to each other, so their hidden states (and
  keys and values in every layer) are the same in every row that uses the same prompt. They are computed
  once per distinct prompt (once per batch for a single prompt, once per task for a task-gated fusion) and
  handed to the batch as a key/value cache that gradients flow through; PEFT recomputes them in every row.
* **Logits only at target positions**, projected in fp32 outside any autocast region.

``autocast_dtype=torch.bfloat16`` runs the frozen decoder under autocast in training steps (the prompt
parameters, the language-model head and the loss stay fp32; evaluation is exact); ``None`` is exact fp32.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from soft_prompts.prompt import PromptSource, shared_prompts


@dataclass
class SoftPromptOutput:
    """Result of :meth:`SoftPromptModel.forward`.

    Attributes:
        logits: ``(batch, n_virtual + length, vocab)`` when no labels were given, else ``None`` (only the
            positions that predict targets are projected onto the vocabulary).
        target_logprob: ``(batch,)`` summed log-probability of each row's target tokens (labels given).
        target_tokens: ``(batch,)`` number of target tokens per row (labels given).
    """

    logits: torch.Tensor | None = None
    target_logprob: torch.Tensor | None = None
    target_tokens: torch.Tensor | None = None

    def mean_loss(self) -> torch.Tensor:
        """Per-row negative mean token log-likelihood ``(batch,)``."""
        if self.target_logprob is None or self.target_tokens is None:
            raise ValueError("SoftPromptOutput.mean_loss: the forward pass had no labels")
        return -self.target_logprob / self.target_tokens.clamp(min=1)


class SoftPromptModel(nn.Module):
    """A frozen causal LM plus a prompt module.

    Args:
        base_model: a Hugging Face causal LM (``AutoModelForCausalLM``); its parameters are frozen here.
        prompt: a prompt source (:class:`soft_prompts.prompt.PromptEmbedding` or
            :class:`soft_prompts.fusion.GatedPromptFusion`) whose ``token_dim`` is the model's hidden size.
        gradient_checkpointing: recompute the frozen model's activations in the backward pass. Hugging Face
            checkpoints only modules in training mode, so the base model is then put in training mode (its
            dropout, usually 0 for causal LMs, becomes active). The shared prefix is then off.
        autocast_dtype: in training mode, run the frozen decoder under ``torch.autocast`` in this dtype
            (``torch.bfloat16`` on CPUs with AVX512-BF16 or AMX, see
            :func:`soft_prompts.devices.autocast_dtype_for`); evaluation mode stays exact, so dev scores
            match what a reloaded prompt scores. ``None`` computes in the model's own dtype.
        share_prefix: compute the virtual tokens once per distinct prompt (see the module docstring);
            ``False`` runs them in every row as PEFT does (same result up to rounding).
        prefix_ids: frozen token ids placed before the virtual tokens in every row (a chat template's
            header, so the prompt sits where a system message's content would; see
            ``soft_prompts.data.TaskData.input_prefix``); empty: the virtual tokens come first.

    Shapes:
        ``input_ids``/``attention_mask``/``labels`` ``(batch, length)`` ->
        model input ``(batch, n_prefix + n_virtual + length, d)``.

    Raises:
        ValueError: the prompt's ``token_dim`` differs from the model's hidden size.
    """

    def __init__(
        self,
        base_model: nn.Module,
        prompt: PromptSource,
        gradient_checkpointing: bool = False,
        autocast_dtype: torch.dtype | None = None,
        share_prefix: bool = True,
        prefix_ids: tuple[int, ...] | list[int] = (),
    ) -> None:
        super().__init__()
        hidden = base_model.get_input_embeddings().embedding_dim
        if prompt.token_dim != hidden:
            raise ValueError(
                f"SoftPromptModel: prompt token_dim {prompt.token_dim} != model hidden size {hidden}"
            )
        for parameter in base_model.parameters():
            parameter.requires_grad_(False)
        self.base_model = base_model
        self.prompt = prompt
        device = base_model.get_input_embeddings().weight.device
        self.register_buffer(
            "prefix_ids", torch.tensor(list(prefix_ids), dtype=torch.long, device=device), persistent=False
        )
        self.gradient_checkpointing = gradient_checkpointing
        if gradient_checkpointing:
            # Non-reentrant checkpointing propagates gradients to inputs_embeds without the
            # enable_input_require_grads hook the reentrant variant needs.
            options = {"use_reentrant": False}
            if hasattr(base_model, "activation_checkpointing_enable"):  # transformers >= 5.x name
                base_model.activation_checkpointing_enable(activation_checkpointing_kwargs=options)
            else:
                base_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=options)
        self._accepts_logits_to_keep = "logits_to_keep" in inspect.signature(base_model.forward).parameters
        self.autocast_dtype = autocast_dtype
        self.share_prefix = share_prefix and not gradient_checkpointing
        self._split_head = _plain_head(base_model)
        self.train(False)

    @property
    def n_virtual_tokens(self) -> int:
        return int(self.prompt.n_virtual_tokens)

    @property
    def token_dim(self) -> int:
        return int(self.prompt.token_dim)

    @property
    def lead_length(self) -> int:
        """Positions before the input: the frozen prefix tokens, then the virtual tokens."""
        return int(self.prefix_ids.numel()) + self.n_virtual_tokens

    def _with_prefix(self, prompts: torch.Tensor) -> torch.Tensor:
        """``(rows, n_virtual, d)`` -> ``(rows, n_prefix + n_virtual, d)`` (the prefix is frozen)."""
        if not self.prefix_ids.numel():
            return prompts
        header = self.base_model.get_input_embeddings()(self.prefix_ids)
        header = header.detach().to(prompts.dtype)[None].expand(prompts.shape[0], -1, -1)
        return torch.cat([header, prompts], dim=1)

    def train(self, mode: bool = True) -> SoftPromptModel:
        """Set training mode on the prompt; the frozen model stays in eval mode unless it is checkpointed.

        Code in this package does not call it directly: it enters :meth:`mode`, which restores the previous
        mode on exit.
        """
        super().train(mode)
        self.base_model.train(mode and self.gradient_checkpointing)
        return self

    @contextlib.contextmanager
    def mode(self, training: bool) -> Iterator[SoftPromptModel]:
        """Training (``True``) or evaluation (``False``) mode inside the block, the previous mode after it."""
        previous = self.training
        self.train(training)
        try:
            yield self
        finally:
            self.train(previous)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that receive gradients (all of them live in the prompt module)."""
        return [parameter for parameter in self.prompt.parameters() if parameter.requires_grad]

    def prepend_prompt(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, task_ids: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Build the model inputs with the virtual tokens in front.

        Args:
            input_ids: ``(batch, length)`` left-padded token ids.
            attention_mask: ``(batch, length)`` 1 on real tokens.
            task_ids: ``(batch,)`` task index per row (used by fused prompts).

        Returns:
            ``inputs_embeds (batch, n + length, d)``, ``attention_mask (batch, n + length)`` and
            ``position_ids (batch, n + length)``.
        """
        embed = self.base_model.get_input_embeddings()
        token_embeds = embed(input_ids)
        batch = input_ids.shape[0]
        prompt = self.prompt(batch, task_ids=task_ids, input_embeds=token_embeds, input_mask=attention_mask)
        prompt = self._with_prefix(prompt.to(token_embeds.dtype))
        inputs_embeds = torch.cat([prompt, token_embeds], dim=1)
        prompt_mask = torch.ones(batch, self.lead_length, dtype=attention_mask.dtype, device=input_ids.device)
        mask = torch.cat([prompt_mask, attention_mask], dim=1)
        position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)
        return inputs_embeds, mask, position_ids

    def _logits(
        self, inputs_embeds: torch.Tensor, mask: torch.Tensor, position_ids: torch.Tensor, keep: int
    ) -> torch.Tensor:
        kwargs = {"logits_to_keep": keep} if self._accepts_logits_to_keep else {}
        output = self.base_model(
            inputs_embeds=inputs_embeds,
            attention_mask=mask,
            position_ids=position_ids,
            use_cache=False,
            **kwargs,
        )
        logits = output.logits
        return logits if (self._accepts_logits_to_keep or keep == 0) else logits[:, -keep:]

    def _autocast(self, device: torch.device):
        # Training steps only: dev scores, saved prompts and later scoring all see the exact model.
        if self.autocast_dtype is None or not self.training:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def _hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        task_ids: torch.Tensor | None,
        share_prefix: bool,
    ) -> torch.Tensor:
        """Final hidden states ``(batch, n_virtual + length, d)``, or ``(batch, length, d)`` with a shared
        prefix (whose states are not per row)."""
        decoder = self.base_model.base_model
        groups = shared_prompts(self.prompt, input_ids.shape[0], task_ids) if share_prefix else None
        if groups is None:
            inputs_embeds, mask, position_ids = self.prepend_prompt(input_ids, attention_mask, task_ids)
            with self._autocast(input_ids.device):
                output = decoder(
                    inputs_embeds=inputs_embeds,
                    attention_mask=mask,
                    position_ids=position_ids,
                    use_cache=False,
                )
            return output.last_hidden_state
        prompts, row_group = groups
        token_embeds = self.base_model.get_input_embeddings()(input_ids)
        prompts = self._with_prefix(prompts.to(token_embeds.dtype))
        n = self.lead_length
        prefix_positions = torch.arange(n, device=input_ids.device).expand(prompts.shape[0], -1)
        prompt_mask = torch.ones(input_ids.shape[0], n, dtype=attention_mask.dtype, device=input_ids.device)
        mask = torch.cat([prompt_mask, attention_mask], dim=1)
        position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)[:, n:]
        with self._autocast(input_ids.device):
            prefix = decoder(
                inputs_embeds=prompts.to(token_embeds.dtype), position_ids=prefix_positions, use_cache=True
            )
            cache = prefix.past_key_values
            cache.batch_select_indices(row_group)  # (groups, ...) -> (batch, ...); gradients sum back
            output = decoder(
                inputs_embeds=token_embeds,
                attention_mask=mask,
                position_ids=position_ids,
                past_key_values=cache,
                use_cache=True,
            )
        return output.last_hidden_state

    def _target_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, task_ids: torch.Tensor | None, keep: int
    ) -> torch.Tensor:
        """Logits ``(batch, keep, vocab)`` of the last ``keep`` input positions, in fp32."""
        if not self._split_head:
            inputs_embeds, mask, position_ids = self.prepend_prompt(input_ids, attention_mask, task_ids)
            with self._autocast(input_ids.device):
                return self._logits(inputs_embeds, mask, position_ids, keep).float()
        # A target in column 0 is predicted by the last virtual token, which only the per-row path has.
        share = self.share_prefix and keep <= input_ids.shape[1]
        hidden = self._hidden_states(input_ids, attention_mask, task_ids, share)[:, -keep:]
        head = self.base_model.get_output_embeddings()
        return head(hidden.to(head.weight.dtype)).float()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        task_ids: torch.Tensor | None = None,
    ) -> SoftPromptOutput:
        """Run the frozen model with the prompt.

        Args:
            input_ids: ``(batch, length)`` left-padded ids.
            attention_mask: ``(batch, length)``.
            labels: ``(batch, length)`` target ids with -100 elsewhere, or ``None`` for full logits.
            task_ids: ``(batch,)`` task indices (fused prompts).

        Returns:
            A :class:`SoftPromptOutput`. With labels, only the positions from the first target column on are
            projected onto the vocabulary (targets sit at the end of left-padded rows), which saves most of
            the language-model head's time and memory.

        Raises:
            ValueError: labels are given but contain no target token.
        """
        if labels is None:
            inputs_embeds, mask, position_ids = self.prepend_prompt(input_ids, attention_mask, task_ids)
            return SoftPromptOutput(logits=self._logits(inputs_embeds, mask, position_ids, 0))
        has_target = labels != -100
        columns = has_target.any(dim=0).nonzero()
        if columns.numel() == 0:
            raise ValueError("SoftPromptModel.forward: labels contain no target token (all -100)")
        first = int(columns[0])
        keep = labels.shape[1] - first + 1
        # Input position first - 1 predicts the first target column; the last position predicts nothing.
        logits = self._target_logits(input_ids, attention_mask, task_ids, keep)[:, :-1]
        targets = labels[:, first:]
        token_nll = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none"
        ).view_as(targets)
        return SoftPromptOutput(target_logprob=-token_nll.sum(dim=1), target_tokens=has_target.sum(dim=1))

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        max_new_tokens: int = 32,
        task_ids: torch.Tensor | None = None,
        eos_token_id: int | list[int] | None = None,
        pad_token_id: int | None = None,
    ) -> torch.Tensor:
        """Greedy generation with the prompt.

        Args:
            input_ids: ``(batch, length)`` left-padded ids.
            attention_mask: ``(batch, length)``.
            max_new_tokens: tokens to generate at most.
            task_ids: ``(batch,)`` task indices (fused prompts).
            eos_token_id: stop token(s); defaults to the model's generation config.
            pad_token_id: id written after a row has stopped; defaults to the first EOS id.

        Returns:
            ``(batch, new_length)`` generated ids only (the input is not repeated).
        """
        from transformers import GenerationConfig

        inputs_embeds, mask, _ = self.prepend_prompt(input_ids, attention_mask, task_ids)
        base_config = getattr(self.base_model, "generation_config", None)
        if eos_token_id is None and base_config is not None:
            eos_token_id = base_config.eos_token_id
        if pad_token_id is None:
            stop_ids = eos_token_id if isinstance(eos_token_id, list) else [eos_token_id]
            stop_ids = [token for token in stop_ids if token is not None]
            model_pad = getattr(base_config, "pad_token_id", None)
            pad_token_id = stop_ids[0] if stop_ids else (model_pad if model_pad is not None else 0)
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
        )
        # generate() derives position ids from this mask (cumsum - 1), matching forward().
        return self.base_model.generate(
            inputs_embeds=inputs_embeds, attention_mask=mask, generation_config=config
        )


def _plain_head(base_model: nn.Module) -> bool:
    """Whether logits are just ``lm_head(decoder(...))`` (no soft-capping or scaling after the head)."""
    config = getattr(base_model, "config", None)
    if (
        base_model.get_output_embeddings() is None
        or getattr(base_model, "base_model", base_model) is base_model
    ):
        return False
    return getattr(config, "final_logit_softcapping", None) is None and getattr(
        config, "logit_scale", None
    ) in (
        None,
        1.0,
    )
