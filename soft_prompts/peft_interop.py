"""Export prompts as PEFT prompt-tuning adapters and import PEFT adapters as prompts.

PEFT (0.21) stores a causal-LM prompt-tuning adapter as ``adapter_config.json`` (``peft_type:
PROMPT_TUNING``) plus ``adapter_model.safetensors`` with one tensor, ``prompt_embeddings`` of shape
``[num_virtual_tokens, token_dim]``, and prepends those rows before the input embeddings, as
:class:`soft_prompts.model.SoftPromptModel` does. PEFT keeps default position ids, so on left-padded batches
only this package's model gives padding-independent results; unpadded inputs behave identically.
No peft import is needed to write or read these files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PEFT_TENSOR = "prompt_embeddings"
PEFT_VERSION_WRITTEN = "0.21.2"


@dataclass(frozen=True)
class PeftPromptAdapter:
    """A PEFT prompt-tuning adapter read from disk.

    Attributes:
        prompt: ``(n_virtual, d)`` fp32 prompt.
        base_model_name_or_path: the model PEFT recorded (may be ``None``).
        config: the full ``adapter_config.json``.
    """

    prompt: torch.Tensor
    base_model_name_or_path: str | None
    config: dict[str, Any]


def looks_like_peft_adapter(directory: str | Path) -> bool:
    """Whether ``directory`` holds an ``adapter_config.json``."""
    return (Path(directory) / ADAPTER_CONFIG).is_file()


def export_peft_adapter(
    prompt: torch.Tensor,
    directory: str | Path,
    base_model=None,
    base_model_name_or_path: str | None = None,
    init_text: str | None = None,
) -> Path:
    """Write a ``(n_virtual, d)`` prompt as a PEFT prompt-tuning adapter for a causal LM.

    Args:
        prompt: the prompt, e.g. ``model.prompt.static_prompt()`` or a fused prompt's ``static_prompt(task)``.
        directory: output directory (created if needed).
        base_model: the frozen model, used for ``num_layers`` and ``num_attention_heads`` (informational in
            PEFT for prompt tuning).
        base_model_name_or_path: recorded so ``PeftModel.from_pretrained`` users know the base model.
        init_text: recorded as ``prompt_tuning_init_text`` when the prompt came from text.

    Returns:
        The directory; load it with ``peft.PeftModel.from_pretrained(base_model, directory)``.

    Raises:
        ValueError: ``prompt`` is not 2-D.
    """
    if prompt.dim() != 2:
        raise ValueError(f"export_peft_adapter: prompt must be (n_virtual, d), got {tuple(prompt.shape)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model_config = getattr(base_model, "config", None)
    config = {
        "auto_mapping": None,
        "base_model_name_or_path": base_model_name_or_path,
        "inference_mode": True,
        "modules_to_save": None,
        "num_attention_heads": getattr(model_config, "num_attention_heads", None),
        "num_layers": getattr(model_config, "num_hidden_layers", None),
        "num_transformer_submodules": 1,
        "num_virtual_tokens": int(prompt.shape[0]),
        "peft_type": "PROMPT_TUNING",
        "peft_version": PEFT_VERSION_WRITTEN,
        # PEFT's TEXT init needs a tokenizer path at load time; the tensor is what matters, so declare RANDOM.
        "prompt_tuning_init": "RANDOM",
        "prompt_tuning_init_text": init_text,
        "revision": None,
        "task_type": "CAUSAL_LM",
        "token_dim": int(prompt.shape[1]),
        "tokenizer_kwargs": None,
        "tokenizer_name_or_path": None,
    }
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tensors = {PEFT_TENSOR: prompt.detach().float().cpu().contiguous()}
    save_file(tensors, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    return out


def import_peft_adapter(directory: str | Path) -> PeftPromptAdapter:
    """Read a PEFT prompt-tuning adapter (causal LM, one transformer submodule).

    Raises:
        FileNotFoundError: a file is missing (pickled ``adapter_model.bin`` files are refused on purpose).
        ValueError: not a causal-LM prompt-tuning adapter, or the tensor shape disagrees with the config.
    """
    directory = Path(directory)
    config_path = directory / ADAPTER_CONFIG
    weights_path = directory / ADAPTER_WEIGHTS
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path}: not found")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{config_path}: invalid JSON at line {error.lineno}: {error.msg}") from error
    if config.get("peft_type") != "PROMPT_TUNING":
        raise ValueError(
            f"{config_path}: peft_type: expected 'PROMPT_TUNING', got {config.get('peft_type')!r}"
        )
    if config.get("task_type") not in ("CAUSAL_LM", None):
        raise ValueError(f"{config_path}: task_type: expected 'CAUSAL_LM', got {config.get('task_type')!r}")
    if config.get("num_transformer_submodules", 1) != 1:
        raise ValueError(f"{config_path}: num_transformer_submodules: expected 1 (decoder-only models)")
    if not weights_path.is_file():
        raise FileNotFoundError(f"{weights_path}: not found (pickled adapter_model.bin is not read)")
    tensors = load_file(str(weights_path))
    if PEFT_TENSOR not in tensors:
        raise ValueError(f"{weights_path}: tensor {PEFT_TENSOR!r} missing (found {sorted(tensors)})")
    prompt = tensors[PEFT_TENSOR].float()
    expected = (config.get("num_virtual_tokens"), config.get("token_dim"))
    if tuple(prompt.shape) != expected:
        raise ValueError(f"{weights_path}: {PEFT_TENSOR} shape {tuple(prompt.shape)} != config {expected}")
    return PeftPromptAdapter(prompt, config.get("base_model_name_or_path"), config)
