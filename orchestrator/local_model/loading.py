"""Load a causal language model and its tokenizer from any supported source."""

from __future__ import annotations

import logging
import os
from typing import Any

from orchestrator.local_model.convert import ensure_embedded_model, ensure_gguf_converted
from orchestrator.local_model.options import DTYPES as _DTYPES
from orchestrator.local_model.source import resolve_source

__all__ = ["load_causal_lm", "resolve_device", "resolve_dtype"]

logger = logging.getLogger(__name__)


def resolve_device(device: str | None = None) -> str:
    """``device`` as given, else ``cuda`` when available, else ``cpu``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: Any = None, device: str = "cpu") -> Any:
    """A torch dtype from a name or dtype; default ``soft_prompts.devices.default_dtype`` (float32 on CPU,
    bfloat16 on a GPU that supports it, else float16): one policy for the scorer and the soft stage, which
    share the loaded model.

    Raises:
        ValueError: an unknown dtype name.
    """
    import torch

    if dtype is None:
        from soft_prompts.devices import default_dtype

        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    name = _DTYPES.get(str(dtype).lower().removeprefix("torch."))
    if name is None:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(set(_DTYPES))}")
    return getattr(torch, name)


def load_causal_lm(
    source: str | os.PathLike[str],
    *,
    device: str | None = None,
    dtype: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer, in eval mode, on ``device``.

    Args:
        source: an embedded name (``smollm2-135m-instruct``, converted once into the cache), a ``.gguf``
            path (converted once), a local Hugging Face directory, or a Hugging Face id.
        device: ``cpu``, ``cuda``, ``cuda:1``...; default ``cuda`` when available, else ``cpu``.
        dtype: a torch dtype or its name; default float32 on CPU, bfloat16 on GPUs that have it, else float16.
        cache_dir: the promptfusion cache root for converted models.

    Returns:
        ``(model, tokenizer)``; the tokenizer always has a pad token.

    Raises:
        FileNotFoundError: a missing file, directory, or the package of an embedded model.
        OSError: transformers could not load the model (e.g. a Hub id without network).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from soft_prompts.quiet_loading import quiet_progress_bars

    resolved = resolve_source(source)
    if resolved.kind == "embedded":
        location = str(ensure_embedded_model(cache_dir, resolved.location))
    elif resolved.kind == "gguf":
        location = str(ensure_gguf_converted(resolved.location, cache_dir))
    else:
        location = resolved.location
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device.split(":")[0])
    with quiet_progress_bars():
        tokenizer = AutoTokenizer.from_pretrained(location)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=torch_dtype)
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        # Padding positions are always masked out, so any existing token id will do.
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    logger.info("loaded %s (%s) on %s as %s", source, resolved.kind, device, torch_dtype)
    return model, tokenizer
