"""Saving and loading prompt modules: the prompt's tensors as safetensors plus a JSON description.

The base model is never saved: a prompt directory holds ``soft_prompt.safetensors`` (the prompt module's
state dict, a few KB to MB) and ``soft_prompt.json`` (kind, shapes, model id, fusion config, task names and
free-form metadata such as metrics).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from soft_prompts.config import FusionConfig
from soft_prompts.fusion import GatedPromptFusion
from soft_prompts.prompt import PromptEmbedding

CONFIG_NAME = "soft_prompt.json"
WEIGHTS_NAME = "soft_prompt.safetensors"
FORMAT = "promptfusion.soft_prompt"


@dataclass(frozen=True)
class PromptInfo:
    """The JSON side of a saved prompt.

    Attributes:
        kind: ``single`` or ``fusion``.
        n_virtual_tokens: rows per prompt.
        token_dim: hidden size of the model it was tuned on.
        model: the model id it was tuned on (``None`` if unknown).
        task_names: task order of a fused prompt's task embeddings.
        fusion: the fusion config as a dict (fused prompts only).
        metadata: free-form JSON (metrics, init, seeds, ...).
    """

    kind: str
    n_virtual_tokens: int
    token_dim: int
    model: str | None = None
    task_names: tuple[str, ...] = ()
    fusion: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def looks_like_prompt_dir(directory: str | Path) -> bool:
    """Whether ``directory`` holds a prompt saved by :func:`save_prompt`."""
    return (Path(directory) / CONFIG_NAME).is_file()


def save_prompt(
    prompt: PromptEmbedding | GatedPromptFusion,
    directory: str | Path,
    model_id: str | None = None,
    task_names: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a prompt module's tensors and description to ``directory`` (created if needed).

    Args:
        prompt: a single prompt or a fused prompt.
        directory: output directory.
        model_id: the base model's id, stored so loads can be checked.
        task_names: task order (fused prompts).
        metadata: JSON-serialisable extras.

    Returns:
        The directory.

    Raises:
        TypeError: the module is neither kind, or metadata is not JSON-serialisable.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(prompt, GatedPromptFusion):
        kind, fusion = "fusion", dataclasses.asdict(prompt.config)
    elif isinstance(prompt, PromptEmbedding):
        kind, fusion = "single", None
    else:
        raise TypeError(f"save_prompt: cannot save {type(prompt).__name__}")
    info = {
        "format": FORMAT,
        "version": 1,
        "kind": kind,
        "n_virtual_tokens": prompt.n_virtual_tokens,
        "token_dim": prompt.token_dim,
        "model": model_id,
        "task_names": list(task_names),
        "fusion": fusion,
        "metadata": metadata or {},
    }
    tensors = {name: value.detach().float().cpu().contiguous() for name, value in prompt.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS_NAME), metadata={"format": "pt"})
    (out / CONFIG_NAME).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return out


def save_static_prompt(
    prompt: torch.Tensor, directory: str | Path, model_id: str | None = None, metadata: dict | None = None
) -> Path:
    """Save a ``(n_virtual, d)`` tensor as a single prompt (see :func:`save_prompt`)."""
    return save_prompt(PromptEmbedding(prompt), directory, model_id=model_id, metadata=metadata)


def load_prompt_info(directory: str | Path) -> PromptInfo:
    """Read and check ``soft_prompt.json``.

    Raises:
        FileNotFoundError: no ``soft_prompt.json`` in ``directory``.
        ValueError: the file is not valid JSON or misses a field (the message names the file and field).
    """
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from error
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"{path}: format: expected {FORMAT!r}")
    for key in ("kind", "n_virtual_tokens", "token_dim"):
        if key not in raw:
            raise ValueError(f"{path}: {key}: missing")
    if raw["kind"] not in ("single", "fusion"):
        raise ValueError(f"{path}: kind: expected 'single' or 'fusion', got {raw['kind']!r}")
    if raw["kind"] == "fusion" and not isinstance(raw.get("fusion"), dict):
        raise ValueError(f"{path}: fusion: missing for kind 'fusion'")
    return PromptInfo(
        kind=raw["kind"],
        n_virtual_tokens=int(raw["n_virtual_tokens"]),
        token_dim=int(raw["token_dim"]),
        model=raw.get("model"),
        task_names=tuple(raw.get("task_names") or ()),
        fusion=raw.get("fusion"),
        metadata=dict(raw.get("metadata") or {}),
    )


def load_prompt_module(directory: str | Path) -> PromptEmbedding | GatedPromptFusion:
    """Rebuild the prompt module saved in ``directory``.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the tensors do not match the description.
    """
    directory = Path(directory)
    info = load_prompt_info(directory)
    weights_path = directory / WEIGHTS_NAME
    if not weights_path.is_file():
        raise FileNotFoundError(f"{weights_path}: not found")
    tensors = load_file(str(weights_path))
    if info.kind == "single":
        if "embedding" not in tensors:
            raise ValueError(f"{weights_path}: tensor 'embedding' missing")
        module: PromptEmbedding | GatedPromptFusion = PromptEmbedding(tensors["embedding"])
    else:
        config = FusionConfig(**(info.fusion or {}))
        if "pool" not in tensors:
            raise ValueError(f"{weights_path}: tensor 'pool' missing")
        module = GatedPromptFusion(config, tensors["pool"])
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ValueError(f"{weights_path}: tensors do not match {CONFIG_NAME}: {error}") from error
    if (module.n_virtual_tokens, module.token_dim) != (info.n_virtual_tokens, info.token_dim):
        raise ValueError(f"{weights_path}: shape disagrees with {CONFIG_NAME}")
    return module
