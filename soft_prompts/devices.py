"""Device and precision plans, loading the frozen model, and batch sizes that fit in memory.

CUDA when present: the frozen model in bf16 (fp16 on GPUs without bf16 support), prompt parameters in fp32
(they are cast to the model dtype only when concatenated with the input embeddings). CPU otherwise, in fp32.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class DevicePlan:
    """Where and in which precision the frozen model runs.

    Attributes:
        device: ``cuda`` or ``cpu`` (a specific ``cuda:1`` also works).
        base_dtype: dtype of the frozen model's weights and activations.
        prompt_dtype: dtype of the trainable prompt parameters (always fp32 here).
    """

    device: str
    base_dtype: torch.dtype
    prompt_dtype: torch.dtype = torch.float32

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def default_dtype(device: str | torch.device) -> torch.dtype:
    """The frozen model's dtype where none is asked: fp32 on a CPU (fastest there), bf16 on a GPU that
    supports it, else fp16. The one policy of both the local backend's loader and the soft stage."""
    if torch.device(device).type == "cpu":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def plan_devices(prefer: str | None = None) -> DevicePlan:
    """Choose a plan: CUDA in bf16 when available, else CPU in fp32.

    Args:
        prefer: ``"cpu"`` or ``"cuda"`` to force a device; ``None`` picks automatically.

    Raises:
        ValueError: ``prefer="cuda"`` but no GPU is visible, or an unknown device name.
    """
    if prefer is not None and not (prefer == "cpu" or prefer.startswith("cuda")):
        raise ValueError(f"plan_devices: prefer must be 'cpu' or 'cuda[:N]', got {prefer!r}")
    use_cuda = torch.cuda.is_available() if prefer is None else prefer.startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise ValueError("plan_devices: CUDA requested but torch sees no GPU")
    device = (prefer or "cuda") if use_cuda else "cpu"
    return DevicePlan(device, default_dtype(device))


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX): bf16 autocast then beats fp32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


class PrecisionUnsupported(ValueError):
    """``precision="bf16"`` was asked of a device without native bf16 arithmetic."""


def check_precision(precision: str, device: torch.device | str) -> None:
    """Refuse ``bf16`` where the device has no native bf16, rather than run emulated (slow) or silently fp32.

    ``auto`` and ``fp32`` always pass: ``auto`` is the portable choice (bf16 only where it is native).

    Raises:
        PrecisionUnsupported: ``bf16`` on a CPU without AVX512-BF16 or AMX, or on a GPU without bf16.
    """
    if precision != "bf16":
        return
    kind = torch.device(device).type
    if kind == "cpu" and not cpu_has_fast_bf16():
        raise PrecisionUnsupported(
            "'bf16' needs a CPU with AVX512-BF16 or AMX (this one has neither) or a GPU with bf16; "
            "use 'auto' (bf16 where native, else fp32) or 'fp32'"
        )
    if kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise PrecisionUnsupported("'bf16': this GPU has no bf16 support; use 'auto' or 'fp32'")


def autocast_dtype_for(
    precision: str, device: torch.device | str, model_dtype: torch.dtype
) -> torch.dtype | None:
    """The autocast dtype a training run uses (see ``TrainConfig.precision``), or ``None`` for none.

    Args:
        precision: ``auto``, ``fp32`` or ``bf16``.
        device: where the frozen model lives.
        model_dtype: dtype of its weights (a bf16 model on a GPU needs no autocast).

    Raises:
        ValueError: an unknown precision.
        PrecisionUnsupported: ``bf16`` on a device without native bf16 (see :func:`check_precision`).
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"autocast_dtype_for: unknown precision {precision!r}")
    check_precision(precision, device)
    if precision == "fp32" or model_dtype != torch.float32:
        return None
    if precision == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if torch.device(device).type == "cpu" and cpu_has_fast_bf16() else None


def prepare_base_model(model: torch.nn.Module, plan: DevicePlan) -> torch.nn.Module:
    """Freeze, cast and move a causal LM according to ``plan``; returns it in eval mode."""
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.to(device=plan.device, dtype=plan.base_dtype).eval()


def load_base_model(model_dir: str | Path, plan: DevicePlan | None = None):
    """Load a Hugging Face causal LM directory and its tokenizer, frozen and placed per ``plan``.

    Args:
        model_dir: a local directory with ``config.json``, weights and tokenizer files.
        plan: device plan; :func:`plan_devices` by default.

    Returns:
        ``(model, tokenizer)``.

    Raises:
        FileNotFoundError: ``model_dir`` has no ``config.json``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from soft_prompts.quiet_loading import quiet_progress_bars

    directory = Path(model_dir).expanduser()
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"{directory}: not a Hugging Face model directory (no config.json)")
    plan = plan or plan_devices()
    with quiet_progress_bars():
        model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=plan.base_dtype)
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
    return prepare_base_model(model, plan), tokenizer


def available_memory_bytes(plan: DevicePlan) -> int:
    """Free memory on the plan's device: CUDA free memory, or MemAvailable from ``/proc/meminfo``."""
    if plan.is_cuda:
        free, _total = torch.cuda.mem_get_info(torch.device(plan.device))
        return int(free)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))


def activation_bytes_per_example(
    model_config,
    sequence_length: int,
    n_virtual: int,
    dtype: torch.dtype,
    gradient_checkpointing: bool = False,
) -> int:
    """Rough training-activation memory of one example through a frozen decoder.

    Uses the per-layer estimate of Korthikanti et al. (2022) for a transformer layer, ``s * (34 d + 5 a s)``
    bytes at 2 bytes per value, scaled to ``dtype``; with checkpointing only each layer's input (``2 s d``
    values) is kept plus one layer's full activations. An estimate for sizing, not an exact count.
    """
    hidden = int(model_config.hidden_size)
    heads = int(model_config.num_attention_heads)
    layers = int(model_config.num_hidden_layers)
    intermediate = int(getattr(model_config, "intermediate_size", 4 * hidden))
    tokens = sequence_length + n_virtual
    scale = torch.finfo(dtype).bits / 16
    # 34 d assumes a 4 d MLP; correct for the model's real MLP width.
    per_layer = tokens * (34 * hidden + 8 * (intermediate - 4 * hidden) + 5 * heads * tokens) * scale
    if gradient_checkpointing:
        total = layers * 2 * tokens * hidden * scale + per_layer
    else:
        total = layers * per_layer
    return int(total)


def suggest_batch_size(
    model_config,
    sequence_length: int,
    n_virtual: int,
    plan: DevicePlan,
    requested: int,
    memory_fraction: float = 0.5,
    gradient_checkpointing: bool = False,
    free_bytes: int | None = None,
) -> int:
    """The largest batch size <= ``requested`` whose estimated activations fit in a fraction of free memory.

    Args:
        model_config: the frozen model's config (hidden size, heads, layers).
        sequence_length: longest input plus target in tokens.
        n_virtual: virtual tokens.
        plan: device plan (decides where free memory is read and the activation dtype).
        requested: the batch size asked for.
        memory_fraction: share of free memory activations may use.
        gradient_checkpointing: whether activations are recomputed.
        free_bytes: free memory to assume (default: measured on the device).

    Returns:
        A batch size in ``[1, requested]`` (1 even if the estimate says nothing fits: the caller then
        sees the out-of-memory error).
    """
    if requested < 1:
        raise ValueError(f"suggest_batch_size: requested must be >= 1, got {requested}")
    free = available_memory_bytes(plan) if free_bytes is None else free_bytes
    per_example = activation_bytes_per_example(
        model_config, sequence_length, n_virtual, plan.base_dtype, gradient_checkpointing
    )
    fitting = int(free * memory_fraction // max(per_example, 1))
    return max(1, min(requested, fitting))
