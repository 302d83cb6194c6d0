"""bf16 prompt-tuning throughput on a realistic-size model built from a config (random weights).

Weights do not matter for speed, so no download is needed: a Llama-architecture model is built from a config
preset on the target device (frozen, bf16 on GPU), fed random token batches, and trained with this package
(single prompt, gated fusion, single prompt with gradient checkpointing) and with PEFT prompt tuning,
interleaved step by step. Peak memory is ``torch.cuda.max_memory_allocated`` on GPU (peak RSS on CPU).

Each mode's step time is also reported as a fraction of the roofline: the FLOPs of the frozen model's forward
and backward over the whole batch (virtual tokens included; backward to the activations only, no weight
gradients, so twice the forward), divided by the device's peak dense bf16 FLOP/s (``--peak-tflops``, or a
table of known GPUs).

It needs a CUDA device and exits with a message (status 2) when torch sees none; ``--device cpu`` is only for
smoke runs of the script itself, never for numbers:

    python benchmarks/soft_gpu.py --size 1b --out benchmarks/results/soft_gpu.json   # batch 16, seq 256
    python benchmarks/soft_gpu.py --size tiny --steps 3 --device cpu   # CPU smoke run of the script
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_bench_common import ours_runner, peft_runner, run_interleaved  # noqa: E402

from soft_prompts.config import TrainConfig  # noqa: E402
from soft_prompts.data import EncodedBatch  # noqa: E402
from soft_prompts.devices import plan_devices, prepare_base_model, suggest_batch_size  # noqa: E402

PRESETS = {
    "tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "vocab_size": 1000,
    },
    # Llama-3.2-1B-like.
    "1b": {
        "hidden_size": 2048,
        "intermediate_size": 8192,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
    },
    # Llama-3-8B-like.
    "8b": {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
    },
}
MODES = ("peft", "ours", "fusion", "ours_checkpointed")
# Peak dense bf16 tensor-core TFLOP/s (vendor data sheets, without sparsity).
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0}
NO_GPU = (
    "soft_gpu.py measures the GPU bf16 path and torch sees no CUDA device here. Run it on a machine with an "
    "NVIDIA GPU (python benchmarks/soft_gpu.py --size 1b --out soft_gpu.json), or pass --device cpu for a "
    "smoke run of the script (its numbers are not a GPU measurement)."
)


def roofline_step_flops(model_config, batch_size: int, seq_len: int, n_virtual: int) -> float:
    """FLOPs of one forward and backward of the frozen decoder over a batch (the roofline's numerator).

    Forward: ``2 P T`` for the matrix multiplications (``P``: decoder and head weights, ``T``: tokens in the
    batch, virtual ones included) plus causal attention, ``2 L d S`` per token (``Q K^T`` and ``A V`` over
    ``S / 2`` keys on average). Backward to the activations only (the model is frozen): as much again.
    """
    hidden, layers = model_config.hidden_size, model_config.num_hidden_layers
    kv_hidden = hidden * model_config.num_key_value_heads // model_config.num_attention_heads
    per_layer = 2 * hidden * hidden + 2 * hidden * kv_hidden + 3 * hidden * model_config.intermediate_size
    weights = layers * per_layer + hidden * model_config.vocab_size
    sequence = seq_len + n_virtual
    tokens = batch_size * sequence
    forward = 2 * weights * tokens + 2 * layers * hidden * sequence * tokens
    return 2.0 * forward


def peak_tflops(device_name: str, given: float | None) -> float | None:
    """``given``, else the table's value for a GPU whose name contains a known model, else None."""
    if given is not None:
        return given
    matches = [name for name in PEAK_BF16_TFLOPS if name in device_name]
    return PEAK_BF16_TFLOPS[max(matches, key=len)] if matches else None


def build_model(size: str, plan):
    """A randomly initialised Llama of the preset size, frozen, on the plan's device and dtype."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**PRESETS[size], max_position_embeddings=4096, tie_word_embeddings=True)
    with torch.device(plan.device):
        model = LlamaForCausalLM._from_config(config, dtype=plan.base_dtype)
    return prepare_base_model(model, plan)


def random_batches(count: int, batch_size: int, seq_len: int, vocab: int, device, target_tokens: int = 2):
    """Random token batches with a ``target_tokens``-token target at the end of every row."""
    generator = torch.Generator().manual_seed(0)
    batches = []
    for _ in range(count):
        ids = torch.randint(10, vocab, (batch_size, seq_len), generator=generator)
        labels = torch.full_like(ids, -100)
        labels[:, -target_tokens:] = ids[:, -target_tokens:]
        batches.append(
            EncodedBatch(ids, torch.ones_like(ids), labels, torch.zeros(batch_size, dtype=torch.long)).to(
                device
            )
        )
    return batches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(PRESETS), default="1b")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: automatic)")
    parser.add_argument("--steps", type=int, default=12, help="steps per implementation, warm-up included")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--n-virtual", type=int, default=20)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--peak-tflops", type=float, help="device peak dense bf16 TFLOP/s (default: table)")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 is best on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    if not (args.device or "").startswith("cpu") and not torch.cuda.is_available():
        print(f"error: {NO_GPU}", file=sys.stderr)
        return 2
    plan = plan_devices(args.device)
    model = build_model(args.size, plan)
    device = model.get_input_embeddings().weight.device
    parameters = sum(p.numel() for p in model.parameters())
    batches = random_batches(args.steps, args.batch_size, args.seq_len, model.config.vocab_size, device)
    config = TrainConfig(batch_size=args.batch_size, max_length=args.seq_len)
    checkpointed = TrainConfig(
        batch_size=args.batch_size, max_length=args.seq_len, gradient_checkpointing=True
    )
    factories = {
        "peft": lambda: peft_runner(model, args.n_virtual, config.learning_rate, 1.0),
        "ours": lambda: ours_runner(model, args.n_virtual, config),
        "fusion": lambda: ours_runner(model, args.n_virtual, config, pool_size=args.pool_size),
        "ours_checkpointed": lambda: ours_runner(model, args.n_virtual, checkpointed),
    }
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    runners = {mode: factories[mode]() for mode in modes}
    stats = run_interleaved(runners, batches, args.n_virtual, args.warmup, device)
    summary = {mode: stats[mode].summary() for mode in modes}
    device_name = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    )
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": f"{device} ({device_name})",
        "dtype": str(plan.base_dtype),
        "torch": torch.__version__,
        "parameters": parameters,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "suggested_batch_size": suggest_batch_size(
            model.config, args.seq_len, args.n_virtual, plan, requested=1024
        ),
        "summary": summary,
    }
    flops = roofline_step_flops(model.config, args.batch_size, args.seq_len, args.n_virtual)
    peak = peak_tflops(device_name, args.peak_tflops) if device.type == "cuda" else None
    result["roofline"] = {"step_tflop": flops / 1e12, "peak_tflops": peak}
    for mode in modes:
        achieved = flops / summary[mode]["seconds_per_step_median"] / 1e12
        summary[mode]["achieved_tflops"] = achieved
        summary[mode]["roofline_fraction"] = achieved / peak if peak else None
    if "peft" in summary and "ours" in summary:
        result["ours_over_peft_tokens_per_s"] = (
            summary["ours"]["tokens_per_s_median"] / summary["peft"]["tokens_per_s_median"]
        )
        result["ours_over_peft_peak_memory"] = (
            summary["ours"]["peak_mib_median"] / summary["peft"]["peak_mib_median"]
        )
    if "fusion" in summary and "ours" in summary:
        result["fusion_overhead"] = (
            1 - summary["fusion"]["tokens_per_s_median"] / summary["ours"]["tokens_per_s_median"]
        )
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
