"""Prompt-tuning throughput and peak memory: this package vs PEFT, and gated fusion vs a single prompt.

Same model, same batches (a built-in task, left-padded, truncated to --max-length), same batch size and number
of virtual tokens, same optimiser (AdamW) and clipping. The implementations run interleaved step by step in
one process, in a rotating order, so background load on a shared machine hits them alike; medians over the
kept steps are reported.

    python benchmarks/soft_throughput.py --steps 10 --warmup 2 --out benchmarks/results/soft_throughput.json

The model defaults to the embedded SmolLM2-135M-Instruct (converted on first use by
``orchestrator.local_model.ensure_embedded_model``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from soft_bench_common import MODES, ours_runner, peft_runner, run_interleaved  # noqa: E402

from soft_prompts.config import TrainConfig  # noqa: E402
from soft_prompts.data import collate, pad_token_id, tokenize_examples  # noqa: E402
from soft_prompts.devices import cpu_has_fast_bf16, load_base_model, plan_devices  # noqa: E402
from soft_prompts.sampling import MixedTaskSampler  # noqa: E402


def build_batches(tokenizer, task_name: str, count: int, batch_size: int, max_length: int, device):
    """``count`` batches of one built-in task, drawn by the trainer's own sampler."""
    from soft_repro_tasks import load_builtin_task_data

    task = load_builtin_task_data(task_name, n_train=max(64, batch_size * 4), n_dev=0, seed=0)
    rows = tokenize_examples(tokenizer, task.train, max_length)
    sampler = MixedTaskSampler([len(rows)], 1.0, seed=0)
    pad_id = pad_token_id(tokenizer)
    return [
        collate([rows[index] for _, index in sampler.sample(batch_size)], pad_id).to(device)
        for _ in range(count)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="HF model directory (default: the embedded SmolLM2-135M)")
    parser.add_argument("--task", default="causal_judgment", help="built-in task providing the text")
    parser.add_argument("--steps", type=int, default=10, help="steps per implementation, warm-up included")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--n-virtual", type=int, default=20)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: automatic)")
    parser.add_argument("--out", type=Path, help="write the JSON results here")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch CPU threads (0: torch's default; 1 is best on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    plan = plan_devices(args.device)
    if args.model_dir:
        model_dir = Path(args.model_dir)
    else:
        from orchestrator.local_model import ensure_embedded_model

        model_dir = ensure_embedded_model()
    base_model, tokenizer = load_base_model(model_dir, plan)
    device = base_model.get_input_embeddings().weight.device
    batches = build_batches(tokenizer, args.task, args.steps, args.batch_size, args.max_length, device)
    config = TrainConfig(batch_size=args.batch_size, learning_rate=3e-2, max_length=args.max_length)
    factories = {
        "peft": lambda: peft_runner(
            base_model, args.n_virtual, config.learning_rate, config.grad_clip or 1.0
        ),
        "ours": lambda: ours_runner(base_model, args.n_virtual, config),
        "ours_fp32": lambda: ours_runner(base_model, args.n_virtual, replace(config, precision="fp32")),
        "fusion": lambda: ours_runner(base_model, args.n_virtual, config, pool_size=args.pool_size),
        "fusion_instance": lambda: ours_runner(
            base_model, args.n_virtual, config, pool_size=args.pool_size, instance_aware=True
        ),
    }
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    runners = {mode: factories[mode]() for mode in modes}
    stats = run_interleaved(runners, batches, args.n_virtual, args.warmup, device)
    summary = {mode: stats[mode].summary() for mode in modes}
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"torch_threads={torch.get_num_threads()} device={device}",
        "torch": torch.__version__,
        "model_dir": str(model_dir),
        "settings": vars(args) | {"out": str(args.out) if args.out else None, "model_dir": str(model_dir)},
        "precision_ours": str(config.precision),
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "mean_padded_length": sum(b.input_ids.shape[1] for b in batches) / len(batches),
        "summary": summary,
    }
    for ours in ("ours", "ours_fp32"):
        if "peft" in summary and ours in summary:
            # Paired: each round runs every mode back to back on the same batch, so the ratio of one round's
            # times cancels most of the background load that moves between rounds on a shared machine.
            paired = [
                peft_s / ours_s
                for peft_s, ours_s in zip(stats["peft"].seconds, stats[ours].seconds, strict=True)
            ]
            result[f"{ours}_over_peft_paired_median"] = statistics.median(paired)
            result[f"{ours}_over_peft_paired"] = [round(r, 3) for r in paired]
            result[f"{ours}_over_peft_tokens_per_s"] = (
                summary[ours]["tokens_per_s_median"] / summary["peft"]["tokens_per_s_median"]
            )
            result[f"{ours}_over_peft_peak_memory"] = (
                summary[ours]["peak_mib_median"] / summary["peft"]["peak_mib_median"]
            )
            result[f"{ours}_over_peft_step_memory"] = (
                summary[ours]["step_mib_median"] / summary["peft"]["step_mib_median"]
            )
    for fused in ("fusion", "fusion_instance"):
        if fused in summary and "ours" in summary:
            result[f"{fused}_overhead"] = (
                1 - summary[fused]["tokens_per_s_median"] / summary["ours"]["tokens_per_s_median"]
            )
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
