"""Starting values for soft prompts: from text, vocabulary samples, noise, a stored prompt or task vectors.

Every function returns a detached fp32 tensor ``(n_virtual, d)`` on the CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

from soft_prompts.config import PromptInit


def _embedding_matrix(base_model) -> torch.Tensor:
    return base_model.get_input_embeddings().weight.detach()


def text_init(text: str, tokenizer, embedding_matrix: torch.Tensor, n_virtual: int) -> torch.Tensor:
    """Embed a discrete prompt, repeating or truncating its tokens to ``n_virtual`` rows (as PEFT does).

    Args:
        text: the prompt text, e.g. the discrete stage's winning instruction.
        tokenizer: the base model's tokenizer (no special tokens are added).
        embedding_matrix: ``(vocab, d)`` input embeddings of the base model.
        n_virtual: number of rows.

    Raises:
        ValueError: the text tokenises to nothing.
    """
    token_ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if not token_ids:
        raise ValueError(f"text_init: {text[:40]!r} produces no tokens")
    repeated = (token_ids * math.ceil(n_virtual / len(token_ids)))[:n_virtual]
    index = torch.tensor(repeated, dtype=torch.long, device=embedding_matrix.device)
    return embedding_matrix[index].float().cpu().clone()


def vocab_init(
    embedding_matrix: torch.Tensor,
    n_virtual: int,
    generator: torch.Generator,
    exclude_ids: Sequence[int] = (),
) -> torch.Tensor:
    """Rows of ``n_virtual`` vocabulary embeddings sampled uniformly (special tokens can be excluded).

    Raises:
        ValueError: every id is excluded.
    """
    vocab_size = embedding_matrix.shape[0]
    allowed = torch.ones(vocab_size, dtype=torch.bool)
    if exclude_ids:
        allowed[torch.tensor(sorted(set(exclude_ids)), dtype=torch.long)] = False
    candidates = allowed.nonzero().squeeze(-1)
    if candidates.numel() == 0:
        raise ValueError("vocab_init: every vocabulary id is excluded")
    picks = candidates[torch.randint(candidates.numel(), (n_virtual,), generator=generator)]
    return embedding_matrix[picks.to(embedding_matrix.device)].float().cpu().clone()


def random_init(n_virtual: int, token_dim: int, generator: torch.Generator, std: float = 1.0) -> torch.Tensor:
    """Gaussian noise ``N(0, std^2)``; pass the embedding matrix's std to stay at the embeddings' scale."""
    return torch.randn(n_virtual, token_dim, generator=generator) * std


def stored_init(path: str | Path) -> torch.Tensor:
    """Load a prompt saved by :func:`soft_prompts.checkpoint.save_prompt` or a PEFT prompt-tuning adapter.

    A fused prompt is not a single prompt: export one task's prompt first
    (:func:`soft_prompts.checkpoint.save_static_prompt`).

    Raises:
        FileNotFoundError: neither format is found in ``path``.
        ValueError: the stored prompt is not a single ``(n_virtual, d)`` prompt.
    """
    from soft_prompts.checkpoint import load_prompt_module, looks_like_prompt_dir
    from soft_prompts.peft_interop import import_peft_adapter, looks_like_peft_adapter

    directory = Path(path)
    if looks_like_peft_adapter(directory):
        return import_peft_adapter(directory).prompt
    if looks_like_prompt_dir(directory):
        module = load_prompt_module(directory)
        if hasattr(module, "pool"):
            raise ValueError(
                f"{directory}: holds a fused prompt; export one task's prompt to use it as a start"
            )
        return module.static_prompt()
    raise FileNotFoundError(
        f"{directory}: no soft prompt (soft_prompt.json) or PEFT adapter (adapter_config.json)"
    )


def vectors_init(init: PromptInit, model_id: str | None = None) -> torch.Tensor:
    """An origin plus a combination of stored task prompt vectors (Task Prompt Vectors' ``origin + sum``).

    Raises:
        ValueError: the vectors disagree on origin, model or shape.
    """
    from soft_prompts.vectors import combine_vectors, load_origin

    combined = combine_vectors(
        init.store_dir,
        init.vector_names,
        weights=init.weights,
        method=init.merge,
        seed=init.seed,
    )
    if model_id is not None and combined.metadata.model != model_id:
        raise ValueError(
            f"vectors {init.vector_names!r} were tuned on {combined.metadata.model!r}, not {model_id!r}"
        )
    origin = load_origin(init.store_dir, combined.metadata.origin_id)
    return (origin + combined.values).float()


def build_initial_prompt(
    init: PromptInit, base_model, tokenizer, n_virtual: int, model_id: str | None = None
) -> torch.Tensor:
    """Dispatch on ``init.kind`` and return the ``(n_virtual, d)`` starting prompt.

    Args:
        init: which initialisation and its inputs.
        base_model: the frozen causal LM (its input embeddings give text, vocab and random inits).
        tokenizer: the model's tokenizer (text init, special-token exclusion for vocab init).
        n_virtual: number of virtual tokens.
        model_id: the model's name, checked against stored vector metadata when given.

    Raises:
        ValueError: a stored prompt or vector combination has another shape than ``(n_virtual, d)``.
    """
    embedding_matrix = _embedding_matrix(base_model)
    token_dim = embedding_matrix.shape[1]
    generator = torch.Generator().manual_seed(init.seed)
    if init.kind == "text":
        prompt = text_init(init.text or "", tokenizer, embedding_matrix, n_virtual)
    elif init.kind == "vocab":
        prompt = vocab_init(embedding_matrix, n_virtual, generator, tokenizer.all_special_ids)
    elif init.kind == "random":
        prompt = random_init(n_virtual, token_dim, generator, std=float(embedding_matrix.float().std()))
    elif init.kind == "stored":
        prompt = stored_init(init.path or "")
    else:
        prompt = vectors_init(init, model_id)
    if tuple(prompt.shape) != (n_virtual, token_dim):
        raise ValueError(
            f"initial prompt ({init.kind}) has shape {tuple(prompt.shape)}, "
            f"expected ({n_virtual}, {token_dim})"
        )
    return prompt
