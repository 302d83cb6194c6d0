"""bf16 prompt-tuning throughput on a realistic-size model built from a config (random weights).

Weights do not matter for speed, so no download is needed: a Llama-architecture model is built from a config
preset on the target device (frozen, bf16 on GPU), fed random token batches, and trained with this package
(single prompt, gated fusion, single prompt with gradient checkpointing) and with PEFT prompt tuning,
interleaved step by step. Peak memory is ``torch.cuda.max_memory_allocated`` on GPU (peak RSS on CPU).

    python benchmarks/soft_gpu.py --size 1b --out benchmarks/results/soft_gpu.json   # batch 16, seq 256
    python benchmarks/soft_gpu.py --size tiny --steps 3   # CPU smoke run
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
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 is best on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

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
